import { randomBytes } from 'node:crypto';
import { NonRetryableTaskError } from '@ora/core';
import { createWebhookReceiver, type WebhookReceiver } from '@ora/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

// tasks.stats, tasks.activity and the search of tasks.list: what the admin UI's overview, task
// timeline and task queue read.
describe.each(modes)('task overview queries (%s)', (mode) => {
  let server: TestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await createWebhookReceiver();
    server = await startTestServer(mode, {
      env: { ORA_WEBHOOK_ALLOW_PRIVATE: 'true', ORA_EVENTS_POLL_MS: '50' },
      taskHandlers: {
        byType: {
          'ov.ok': async ({ task }) => ({ status: 'success', output: { title: task.title } }),
          'ov.broken': async () => {
            throw new NonRetryableTaskError('cannot work');
          },
        },
      },
      tasks: { worker: { concurrency: 4, heartbeatMs: 200, backoffBaseMs: 100 }, maintenanceIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  const db = () => server.system.database.db;
  const ok = async (action: string, data: unknown, key = server.rootKey) => {
    const res = await call(server, key, action, data);
    expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body.data;
  };
  async function settled(id: string) {
    for (let i = 0; i < 300; i++) {
      const task = await ok('tasks.get', { id });
      if (['success', 'error', 'cancelled', 'expired'].includes(task.status)) return task;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${id} did not settle`);
  }
  async function newAgent(slug: string) {
    return db()
      .insertInto('agents')
      .values({ slug: `${slug}-${randomBytes(3).toString('hex')}`, name: slug, model: null })
      .returning(['id', 'slug'])
      .executeTakeFirstOrThrow();
  }

  it("counts the queue by status (approvals apart), today's failures and successes, and the runs' tokens and cost per agent", async () => {
    const agent = await newAgent('stats');
    const before = (await ok('tasks.stats', {})).totals;
    const okTask = (await ok('tasks.create', { taskType: 'ov.ok', title: 'fine' })).tasks[0];
    const broken = (await ok('tasks.create', { taskType: 'ov.broken', title: 'broken' })).tasks[0];
    await ok('tasks.create', { taskType: 'ov.ok', title: 'asks first', requiresApproval: true });
    await ok('tasks.create', {
      agent: agent.slug,
      taskType: 'agent.run',
      title: 'for the agent',
      requiresApproval: true,
    });
    expect((await settled(okTask.id)).status).toBe('success');
    expect((await settled(broken.id)).status).toBe('error');
    const now = Date.now();
    await db()
      .insertInto('agent_runs')
      .values([
        { agent_id: agent.id, total_tokens: 1500, cost: '0.25', started_at: new Date(now) },
        { agent_id: agent.id, total_tokens: 500, cost: '0.05', started_at: new Date(now - 1000) },
        // Two days ago: outside today.
        { agent_id: agent.id, total_tokens: 9999, cost: '9', started_at: new Date(now - 2 * 86_400_000) },
      ])
      .execute();

    const stats = await ok('tasks.stats', {});
    expect(Date.parse(stats.since)).toBe(new Date(new Date().toISOString().slice(0, 10)).getTime());
    expect(stats.totals.succeeded - before.succeeded).toBe(1);
    expect(stats.totals.failed - before.failed).toBe(1);
    expect(stats.totals.awaitingApproval - before.awaitingApproval).toBe(2);
    const line = stats.agents.find((a: { agentId: string }) => a.agentId === agent.id);
    expect(line).toMatchObject({ slug: agent.slug, awaitingApproval: 1, runs: 2, tokens: 2000, waiting: 0 });
    expect(line.cost).toBeCloseTo(0.3, 6);
    const system = stats.agents.find((a: { agentId: string | null }) => a.agentId === null);
    expect(system).toMatchObject({ name: 'system tasks', awaitingApproval: 1 });
    expect(system.succeeded).toBeGreaterThanOrEqual(1);
    expect(system.failed).toBeGreaterThanOrEqual(1);

    // A wider window takes the old run in; a key bound to the agent sees its own line only.
    const week = await ok('tasks.stats', { since: new Date(now - 7 * 86_400_000).toISOString() });
    expect(week.agents.find((a: { agentId: string }) => a.agentId === agent.id).tokens).toBe(11_999);
    const bound = (await ok('keys.create', { name: 'bound', scopes: ['tasks:read'], agentId: agent.id })).secret;
    const own = await ok('tasks.stats', {}, bound);
    expect(own.agents.map((a: { agentId: string }) => a.agentId)).toEqual([agent.id]);
    expect(own.totals).toMatchObject({ awaitingApproval: 1, tokens: 2000 });

    const bad = await call(server, server.rootKey, 'tasks.stats', { since: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('finds tasks by words of their title or input, ignoring case, with LIKE wildcards taken literally', async () => {
    const tag = randomBytes(4).toString('hex');
    const a = (await ok('tasks.create', { taskType: 'ov.ok', title: `Quarterly REPORT ${tag}` })).tasks[0];
    const b = (await ok('tasks.create', { taskType: 'ov.ok', title: 'plain', input: { city: `Lisbon-${tag}` } }))
      .tasks[0];
    const c = (await ok('tasks.create', { taskType: 'ov.ok', title: `100% sure ${tag}` })).tasks[0];
    const ids = async (search: string) =>
      (await ok('tasks.list', { search, limit: 50 })).items.map((t: { id: string }) => t.id).sort();
    expect(await ids(`report ${tag}`)).toEqual([a.id]);
    expect(await ids(`lisbon-${tag}`)).toEqual([b.id]);
    expect(await ids(tag)).toEqual([a.id, b.id, c.id].sort());
    expect(await ids(`0% sure ${tag}`)).toEqual([c.id]);
    expect(await ids(`%${tag}`)).toEqual([]);
    expect(await ids(`_uarterly`)).toEqual([]);
  });

  it("gives a task's activity: the key that made it, its memory writes and its events' webhook deliveries, as the key's scopes allow", async () => {
    const hook = (await ok('webhooks.create', { name: 'overview-hook', url: receiver.url, events: ['task.*'] }))
      .webhook;
    const maker = await ok('keys.create', { name: 'maker', scopes: ['tasks:*', 'memory:*'] });
    const task = (await ok('tasks.create', { taskType: 'ov.ok', title: 'traced' }, maker.secret)).tasks[0];
    await settled(task.id);
    await ok('memory.upsert', { type: 'fact', key: `trace.${task.id}`, content: 'one', taskId: task.id });
    await ok('memory.upsert', { type: 'fact', key: `trace.${task.id}`, content: 'two', taskId: task.id });
    await ok('memory.upsert', { type: 'fact', key: `other.${task.id}`, content: 'not this task' });

    let activity: any;
    for (let i = 0; i < 200; i++) {
      activity = await ok('tasks.activity', { id: task.id });
      if (activity.deliveries.filter((d: { status: string }) => d.status === 'success').length >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(activity.createdByKey).toEqual({ id: maker.key.id, name: 'maker', prefix: maker.key.prefix });
    expect(activity.memoryWrites.map((v: { version: number; content: unknown }) => [v.version, v.content])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
    expect(activity.deliveries.map((d: { eventType: string }) => d.eventType)).toEqual([
      'task.created',
      'task.started',
      'task.completed',
    ]);
    expect(activity.deliveries[0]).toMatchObject({
      webhookId: hook.id,
      webhookName: 'overview-hook',
      status: 'success',
    });
    expect(activity.deliveries[0].attempts[0].statusCode).toBe(200);

    // A key with tasks:read alone sees the task, not what needs other scopes.
    const reader = (await ok('keys.create', { name: 'reader', scopes: ['tasks:read'] })).secret;
    expect(await ok('tasks.activity', { id: task.id }, reader)).toEqual({
      createdByKey: null,
      memoryWrites: null,
      deliveries: null,
    });
    // A key bound to another agent does not see the task at all.
    const agent = await newAgent('elsewhere');
    const bound = (await ok('keys.create', { name: 'bound2', scopes: ['*'], agentId: agent.id })).secret;
    const hidden = await call(server, bound, 'tasks.activity', { id: task.id });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('NOT_FOUND');
  });
});
