import { NonRetryableTaskError, type TaskHandlers } from '@ora/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

/** What the test handlers did, in order: the side effects a test can check. */
const log: Array<{ event: 'start' | 'end'; title: string; at: number }> = [];
const attemptsByTitle = new Map<string, number>();
/** test.gate tasks run until the test opens their gate (by title). */
const gates = new Map<string, () => void>();
const gate = (title: string) => new Promise<void>((resolve) => gates.set(title, resolve));

const handlers: TaskHandlers = {
  byType: {
    'test.record': async ({ task, dependencies }) => {
      log.push({ event: 'start', title: task.title, at: Date.now() });
      await new Promise((r) => setTimeout(r, 30));
      log.push({ event: 'end', title: task.title, at: Date.now() });
      return { status: 'success', output: { title: task.title, saw: dependencies.map((d) => d.output) } };
    },
    'test.block': ({ signal }) =>
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    'test.flaky': async ({ task, attempt }) => {
      attemptsByTitle.set(task.title, attempt);
      if (attempt < 3) throw new Error(`flake ${attempt}`);
      return { status: 'success', output: { attempt } };
    },
    'test.broken': async () => {
      throw new NonRetryableTaskError('input can never work');
    },
    'test.ask': async () => ({ status: 'waiting', reason: 'need the operator to pick a title' }),
    'test.gate': async ({ task }) => {
      await gate(task.title);
      return { status: 'success', output: { title: task.title } };
    },
    write_post: async ({ task }) => ({ status: 'success', output: { draft: `# ${task.title}` } }),
    optimize_seo: async ({ dependencies }) => ({ status: 'success', output: { seoOf: dependencies[0]?.output } }),
    generate_image: async () => ({ status: 'success', output: { image: 'cover.png' } }),
    publish_post: async ({ dependencies }) => ({
      status: 'success',
      output: { published: true, from: dependencies.map((d) => d.taskType).sort() },
    }),
  },
};

async function waitForStatus(server: TestServer, id: string, statuses: string[], timeoutMs = 15_000) {
  const started = Date.now();
  for (;;) {
    const res = await call(server, server.rootKey, 'tasks.get', { id });
    if (statuses.includes(res.body.data.status)) return res.body.data;
    if (Date.now() - started > timeoutMs) throw new Error(`task ${id} is ${res.body.data.status}, not ${statuses}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(modes)('the task queue (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode, {
      taskHandlers: handlers,
      tasks: { worker: { concurrency: 8, heartbeatMs: 200, backoffBaseMs: 100 }, maintenanceIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs a 4-step DAG with fan-out and fan-in in dependency order, passing outputs along', async () => {
    log.length = 0;
    const res = await call(server, server.rootKey, 'tasks.create', {
      steps: [
        { ref: 'd', taskType: 'test.record', title: `${mode}-d`, dependsOn: ['b', 'c'] },
        { ref: 'b', taskType: 'test.record', title: `${mode}-b`, dependsOn: ['a'] },
        { ref: 'c', taskType: 'test.record', title: `${mode}-c`, dependsOn: ['a'] },
        { ref: 'a', taskType: 'test.record', title: `${mode}-a` },
      ],
    });
    expect(res.status).toBe(200);
    const byTitle = Object.fromEntries(res.body.data.tasks.map((t: { title: string; id: string }) => [t.title, t]));
    expect(byTitle[`${mode}-a`].status).toBe('queued');
    expect(byTitle[`${mode}-d`].status).toBe('pending');
    expect(byTitle[`${mode}-d`].dependsOn).toHaveLength(2);

    const d = await waitForStatus(server, byTitle[`${mode}-d`].id, ['success']);
    const time = (title: string, event: 'start' | 'end') =>
      log.find((l) => l.title === `${mode}-${title}` && l.event === event)?.at ?? NaN;
    expect(time('a', 'end')).toBeLessThanOrEqual(time('b', 'start'));
    expect(time('a', 'end')).toBeLessThanOrEqual(time('c', 'start'));
    expect(time('b', 'end')).toBeLessThanOrEqual(time('d', 'start'));
    expect(time('c', 'end')).toBeLessThanOrEqual(time('d', 'start'));
    expect(d.output.saw.map((o: { title: string }) => o.title).sort()).toEqual([`${mode}-b`, `${mode}-c`]);
    expect(d.events.map((e: { toStatus: string }) => e.toStatus)).toEqual(['pending', 'queued', 'running', 'success']);
    expect(d.dependencies.map((t: { title: string }) => t.title).sort()).toEqual([`${mode}-b`, `${mode}-c`]);
  });

  it('starts a task created to depend on a running one once that one succeeds', async () => {
    const first = await call(server, server.rootKey, 'tasks.create', { taskType: 'test.gate', title: `${mode}-gate` });
    const running = first.body.data.tasks[0];
    await waitForStatus(server, running.id, ['running']);
    const second = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.record',
      title: `${mode}-after-gate`,
      dependsOn: [running.id],
    });
    expect(second.status).toBe(200);
    const dependent = second.body.data.tasks[0];
    expect(dependent.status).toBe('pending');
    gates.get(`${mode}-gate`)?.();
    const done = await waitForStatus(server, dependent.id, ['success']);
    expect(done.output.saw).toEqual([{ title: `${mode}-gate` }]);
    expect(done.events.map((e: { toStatus: string }) => e.toStatus)).toEqual([
      'pending',
      'queued',
      'running',
      'success',
    ]);
  });

  // PGlite has one connection: a lock held by another session is a Postgres matter.
  it.skipIf(mode === 'embedded')(
    'creates unrelated tasks while a task that depends on a row locked elsewhere waits for that lock',
    async () => {
      const first = await call(server, server.rootKey, 'tasks.create', {
        taskType: 'test.gate',
        title: `${mode}-held`,
      });
      const held = first.body.data.tasks[0];
      await waitForStatus(server, held.id, ['running']);
      // Another session (an operator's psql, a slow transaction) holds the dependency's row.
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let lockTaken = () => {};
      const locked = new Promise<void>((resolve) => {
        lockTaken = resolve;
      });
      const holder = server.system.database.db.transaction().execute(async (trx) => {
        await sql`select id from agent_tasks where id = ${held.id} for update`.execute(trx);
        lockTaken();
        await released;
      });
      await locked;
      let dependentAnswered = false;
      const dependent = call(server, server.rootKey, 'tasks.create', {
        taskType: 'test.record',
        title: `${mode}-behind-lock`,
        dependsOn: [held.id],
      }).then((res) => {
        dependentAnswered = true;
        return res;
      });
      try {
        await new Promise((r) => setTimeout(r, 200)); // the dependent's batch is now waiting on the lock
        const unrelated = await Promise.race([
          call(server, server.rootKey, 'tasks.create', { taskType: 'test.record', title: `${mode}-beside-lock` }),
          new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), 3_000)),
        ]);
        expect(unrelated === 'no answer' ? unrelated : unrelated.status).toBe(200);
        expect(dependentAnswered).toBe(false);
      } finally {
        release();
        await holder;
      }
      const answered = await dependent;
      expect(answered.status).toBe(200);
      expect(answered.body.data.tasks[0].status).toBe('pending');
      gates.get(`${mode}-held`)?.();
      await waitForStatus(server, answered.body.data.tasks[0].id, ['success']);
    },
  );

  it('cancels a running task within seconds, and its dependents with a reason naming it', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      steps: [
        { ref: 'a', taskType: 'test.block', title: 'long step' },
        { ref: 'b', taskType: 'test.record', title: 'after long', dependsOn: ['a'] },
        { ref: 'c', taskType: 'test.record', title: 'after after', dependsOn: ['b'] },
      ],
    });
    const [a, b, c] = ['long step', 'after long', 'after after'].map((t) =>
      res.body.data.tasks.find((x: { title: string }) => x.title === t),
    );
    await waitForStatus(server, a.id, ['running']);
    const asked = Date.now();
    const cancelled = await call(server, server.rootKey, 'tasks.cancel', { id: a.id, reason: 'operator changed mind' });
    expect(cancelled.status).toBe(200);
    const done = await waitForStatus(server, a.id, ['cancelled'], 5000);
    expect(Date.now() - asked).toBeLessThan(3000);
    expect(done.statusMessage).toBe('operator changed mind');
    const bAfter = await waitForStatus(server, b.id, ['cancelled']);
    expect(bAfter.statusMessage).toContain(a.id);
    const cAfter = await waitForStatus(server, c.id, ['cancelled']);
    expect(cAfter.statusMessage).toContain(b.id);
  });

  it('retries with exponential backoff, then succeeds', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.flaky',
      title: `flaky-${mode}`,
      maxAttempts: 3,
    });
    const id = res.body.data.tasks[0].id;
    const task = await waitForStatus(server, id, ['success']);
    expect(task.attemptCount).toBe(3);
    expect(attemptsByTitle.get(`flaky-${mode}`)).toBe(3);
    const failures = task.events.filter((e: { message: string | null }) => e.message?.startsWith('attempt'));
    expect(failures).toHaveLength(2);
    const runs = task.events
      .filter((e: { toStatus: string }) => e.toStatus === 'running')
      .map((e: { createdAt: string }) => Date.parse(e.createdAt));
    expect(runs[1] - runs[0]).toBeGreaterThanOrEqual(50); // base 100 ms, half-jittered
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(100); // 200 ms, half-jittered
  });

  it('fails at once on a non-retryable error', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.broken',
      title: 'broken',
      maxAttempts: 5,
    });
    const task = await waitForStatus(server, res.body.data.tasks[0].id, ['error']);
    expect(task.attemptCount).toBe(1);
    expect(task.errorMessage).toBe('input can never work');
  });

  it('expires a task whose deadline passes before it runs, and one that is still running', async () => {
    const soon = new Date(Date.now() + 300).toISOString();
    const later = new Date(Date.now() + 60_000).toISOString();
    const waiting = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.record',
      title: 'too late',
      deadlineAt: soon,
      scheduledFor: later,
    });
    const running = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.block',
      title: 'runs over',
      deadlineAt: new Date(Date.now() + 800).toISOString(),
    });
    const a = await waitForStatus(server, waiting.body.data.tasks[0].id, ['expired'], 5000);
    expect(a.events.at(-1).toStatus).toBe('expired');
    const b = await waitForStatus(server, running.body.data.tasks[0].id, ['expired'], 5000);
    expect(b.startedAt).not.toBeNull();
  });

  it('holds a task that requires approval until tasks.approve', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.record',
      title: 'needs ok',
      requiresApproval: true,
    });
    const id = res.body.data.tasks[0].id;
    expect(res.body.data.tasks[0].status).toBe('waiting');
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(server, server.rootKey, 'tasks.get', { id })).body.data.status).toBe('waiting');
    const approved = await call(server, server.rootKey, 'tasks.approve', { id });
    expect(approved.body.data.approvedAt).not.toBeNull();
    await waitForStatus(server, id, ['success']);
  });

  it('lets a waiting task be given input and resumed', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.ask',
      title: 'asks',
      maxAttempts: 1,
    });
    const id = res.body.data.tasks[0].id;
    const waiting = await waitForStatus(server, id, ['waiting']);
    expect(waiting.statusMessage).toBe('need the operator to pick a title');
    const resumed = await call(server, server.rootKey, 'tasks.update', {
      id,
      input: { title: 'Picked' },
      resume: true,
    });
    expect(resumed.body.data.input).toEqual({ title: 'Picked' });
  });

  it('creates one chain for a repeated tasks.create with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': `tasks-${mode}` };
    const a = await call(
      server,
      server.rootKey,
      'tasks.create',
      { taskType: 'test.record', title: 'once' },
      { headers },
    );
    const b = await call(
      server,
      server.rootKey,
      'tasks.create',
      { taskType: 'test.record', title: 'once' },
      { headers },
    );
    expect(b.body.data.chainId).toBe(a.body.data.chainId);
    const list = await call(server, server.rootKey, 'tasks.list', { chainId: a.body.data.chainId });
    expect(list.body.data.items).toHaveLength(1);
  });

  it('refuses cycles, unknown references and unknown agents with VALIDATION_ERROR', async () => {
    const cycle = await call(server, server.rootKey, 'tasks.create', {
      steps: [
        { ref: 'a', taskType: 'test.record', title: 'a', dependsOn: ['b'] },
        { ref: 'b', taskType: 'test.record', title: 'b', dependsOn: ['a'] },
      ],
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.message).toMatch(/cycle/);
    const unknown = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.record',
      title: 'x',
      dependsOn: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(unknown.status).toBe(400);
    const agent = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'test.record',
      title: 'x',
      agent: 'nobody',
    });
    expect(agent.status).toBe(400);
    const none = await call(server, server.rootKey, 'tasks.list', { status: 'bogus' });
    expect(none.status).toBe(400);
  });

  it('runs the publish_post workflow: draft, then SEO and image in parallel, then publish', async () => {
    const missing = await call(server, server.rootKey, 'workflows.run', { name: 'publish_post', input: {} });
    expect(missing.status).toBe(400);
    const res = await call(server, server.rootKey, 'workflows.run', {
      name: 'publish_post',
      input: { topic: 'AI safety' },
    });
    expect(res.status).toBe(200);
    const tasks = res.body.data.tasks as Array<{
      id: string;
      taskType: string;
      agentSlug: string | null;
      title: string;
    }>;
    expect(tasks.map((t) => t.taskType).sort()).toEqual([
      'generate_image',
      'optimize_seo',
      'publish_post',
      'write_post',
    ]);
    expect(tasks.find((t) => t.taskType === 'write_post')).toMatchObject({
      agentSlug: 'writer',
      title: 'Write a draft about AI safety',
    });
    const publish = tasks.find((t) => t.taskType === 'publish_post') as { id: string };
    const done = await waitForStatus(server, publish.id, ['success']);
    expect(done.output).toEqual({ published: true, from: ['generate_image', 'optimize_seo'] });
    expect(done.workflowName).toBe('publish_post');
  });

  it('reports task counts per agent', async () => {
    const res = await call(server, server.rootKey, 'agents.status');
    expect(res.status).toBe(200);
    const writer = res.body.data.agents.find((a: { slug: string }) => a.slug === 'writer');
    expect(writer.succeeded).toBeGreaterThanOrEqual(1);
    expect(res.body.data.agents.map((a: { slug: string | null }) => a.slug)).toEqual(
      expect.arrayContaining(['writer', 'imager', 'seo', 'social', 'analyst', 'ora']),
    );
  });

  it('runs a schedule on trigger, and skips an overlapping run under the skip policy', async () => {
    const created = await call(server, server.rootKey, 'schedules.create', {
      name: `nightly-${mode}`,
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      template: { kind: 'task', step: { taskType: 'test.block', title: 'scheduled' } },
    });
    expect(created.status).toBe(200);
    expect(Date.parse(created.body.data.nextRunAt)).toBeGreaterThan(Date.now());
    const first = await call(server, server.rootKey, 'schedules.trigger', { id: created.body.data.id });
    expect(first.body.data.chainId).toBeTruthy();
    const second = await call(server, server.rootKey, 'schedules.trigger', { id: created.body.data.id });
    expect(second.body.data.skipped).toMatch(/still active/);
    await call(server, server.rootKey, 'tasks.cancel', { id: first.body.data.chainId });
    const bad = await call(server, server.rootKey, 'schedules.create', {
      name: 'bad',
      cron: 'every day',
      template: { kind: 'task', step: { taskType: 'test.record', title: 'x' } },
    });
    expect(bad.status).toBe(400);
  });
});
