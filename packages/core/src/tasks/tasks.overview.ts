import { type ActionData, type ActionOutput, OraError, scopeAllows, type TaskStatsLine } from '@ora/contracts';
import { sql } from 'kysely';
import { versionRowToVersion } from '../memory/memory.repository';
import type { Actor, Clock, Db } from '../shared/deps';
import { deliveryRowToDelivery } from '../webhooks/webhooks.repository';

/** The start of the clock's day in UTC: what "today" means for tasks.stats. */
export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

const emptyLine = (agentId: string | null, slug: string | null, name: string): TaskStatsLine => ({
  agentId,
  slug,
  name,
  pending: 0,
  queued: 0,
  running: 0,
  waiting: 0,
  awaitingApproval: 0,
  failed: 0,
  succeeded: 0,
  runs: 0,
  tokens: 0,
  cost: 0,
});

/**
 * The operator's overview: the queue as it stands (per status, with approvals apart from other
 * waits), and since `since` (default: today, UTC) the failures, successes, agent runs, tokens and
 * cost, per agent and in total. Cancelled tasks are not counted. A key bound to an agent sees
 * only that agent's line.
 */
export async function taskStats(
  deps: { db: Db; clock: Clock },
  actor: Actor,
  input: ActionData<'tasks.stats'>,
): Promise<ActionOutput<'tasks.stats'>> {
  const since = input.since ? new Date(input.since) : startOfUtcDay(deps.clock.now());
  let agentsQuery = deps.db.selectFrom('agents').select(['id', 'slug', 'name']).orderBy('slug');
  let queueQuery = deps.db
    .selectFrom('agent_tasks')
    .select([
      'assigned_to',
      'status',
      sql<boolean>`(requires_approval and approved_at is null)`.as('for_approval'),
      (eb) => eb.fn.countAll<string>().as('count'),
    ])
    .where('status', 'in', ['pending', 'queued', 'running', 'waiting'])
    .groupBy(['assigned_to', 'status', sql`(requires_approval and approved_at is null)`]);
  let outcomeQuery = deps.db
    .selectFrom('agent_tasks')
    .select(['assigned_to', 'status', (eb) => eb.fn.countAll<string>().as('count')])
    .where('status', 'in', ['success', 'error', 'expired'])
    .where('completed_at', '>=', since)
    .groupBy(['assigned_to', 'status']);
  let runsQuery = deps.db
    .selectFrom('agent_runs')
    .select([
      'agent_id',
      (eb) => eb.fn.countAll<string>().as('runs'),
      sql<string>`coalesce(sum(total_tokens), 0)`.as('tokens'),
      sql<string>`coalesce(sum(cost), 0)`.as('cost'),
    ])
    .where('started_at', '>=', since)
    .groupBy('agent_id');
  if (actor.agentId) {
    agentsQuery = agentsQuery.where('id', '=', actor.agentId);
    queueQuery = queueQuery.where('assigned_to', '=', actor.agentId);
    outcomeQuery = outcomeQuery.where('assigned_to', '=', actor.agentId);
    runsQuery = runsQuery.where('agent_id', '=', actor.agentId);
  }
  const [agents, queue, outcomes, runs] = await Promise.all([
    agentsQuery.execute(),
    queueQuery.execute(),
    outcomeQuery.execute(),
    runsQuery.execute(),
  ]);

  const lines = new Map<string | null, TaskStatsLine>(agents.map((a) => [a.id, emptyLine(a.id, a.slug, a.name)]));
  if (!actor.agentId) lines.set(null, emptyLine(null, null, 'system tasks'));
  const lineOf = (agentId: string | null) => {
    let line = lines.get(agentId);
    if (!line) {
      // An agent deleted since: its tasks still count, under its id.
      line = emptyLine(agentId, null, agentId ?? 'system tasks');
      lines.set(agentId, line);
    }
    return line;
  };
  for (const row of queue) {
    const line = lineOf(row.assigned_to);
    const n = Number(row.count);
    if (row.status === 'waiting' && row.for_approval) line.awaitingApproval += n;
    else if (
      row.status === 'pending' ||
      row.status === 'queued' ||
      row.status === 'running' ||
      row.status === 'waiting'
    )
      line[row.status] += n;
  }
  for (const row of outcomes) {
    const line = lineOf(row.assigned_to);
    if (row.status === 'success') line.succeeded += Number(row.count);
    else line.failed += Number(row.count);
  }
  for (const row of runs) {
    const line = lineOf(row.agent_id);
    line.runs += Number(row.runs);
    line.tokens += Number(row.tokens);
    line.cost += Number(row.cost);
  }

  const totals = emptyLine(null, null, 'all');
  for (const line of lines.values()) {
    for (const field of [
      'pending',
      'queued',
      'running',
      'waiting',
      'awaitingApproval',
      'failed',
      'succeeded',
      'runs',
      'tokens',
      'cost',
    ] as const) {
      totals[field] += line[field];
    }
  }
  return { since: since.toISOString(), totals, agents: [...lines.values()] };
}

/**
 * What a task touched, for its timeline: the key that created it (with keys:read), every memory
 * version it wrote (with memory:read) and the webhook deliveries of its events (with
 * webhooks:read), each oldest first. A key bound to an agent reaches only that agent's tasks and
 * webhooks.
 */
export async function taskActivity(
  deps: { db: Db; encryptionKey: Buffer | null },
  actor: Actor,
  input: ActionData<'tasks.activity'>,
): Promise<ActionOutput<'tasks.activity'>> {
  let taskQuery = deps.db.selectFrom('agent_tasks').select(['id', 'created_by_key_id']).where('id', '=', input.id);
  if (actor.agentId) taskQuery = taskQuery.where('assigned_to', '=', actor.agentId);
  const task = await taskQuery.executeTakeFirst();
  if (!task) throw new OraError({ code: 'NOT_FOUND', message: `No task with id ${input.id}` });

  const may = (scope: string) => scopeAllows(actor.scopes, scope);
  const [key, versions, deliveries] = await Promise.all([
    task.created_by_key_id && may('keys:read')
      ? deps.db
          .selectFrom('api_keys')
          .select(['id', 'name', 'key_prefix'])
          .where('id', '=', task.created_by_key_id)
          .executeTakeFirst()
      : undefined,
    may('memory:read')
      ? deps.db
          .selectFrom('agent_memory_versions as v')
          .innerJoin('agent_memory as m', 'm.id', 'v.memory_id')
          .selectAll('v')
          .select('m.agent_id as owner')
          .where('v.written_by_task_id', '=', task.id)
          .orderBy('v.created_at')
          .orderBy('v.version')
          .execute()
      : null,
    may('webhooks:read')
      ? (() => {
          let query = deps.db
            .selectFrom('webhook_deliveries as d')
            .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
            .selectAll('d')
            .select('w.name as webhook_name')
            .where('d.event_id', 'in', (eb) =>
              eb.selectFrom('events').select(sql<string>`seq`.as('seq')).where('task_id', '=', task.id),
            )
            // In event order: one dispatch may create a task's deliveries in the same instant.
            .orderBy('d.event_id')
            .orderBy('d.created_at')
            .orderBy('d.id');
          if (actor.agentId) query = query.where('w.agent_id', '=', actor.agentId);
          return query.execute();
        })()
      : null,
  ]);
  const attempts =
    deliveries && deliveries.length > 0
      ? await deps.db
          .selectFrom('webhook_delivery_attempts')
          .selectAll()
          .where(
            'delivery_id',
            'in',
            deliveries.map((d) => d.id),
          )
          .orderBy('attempt')
          .execute()
      : [];
  return {
    createdByKey: key ? { id: key.id, name: key.name, prefix: key.key_prefix } : null,
    memoryWrites: versions
      ? versions.map(({ owner, ...row }) => versionRowToVersion(row, owner, deps.encryptionKey))
      : null,
    deliveries: deliveries
      ? deliveries.map(({ webhook_name, ...row }) => ({
          ...deliveryRowToDelivery(
            row,
            attempts.filter((a) => a.delivery_id === row.id),
          ),
          webhookName: webhook_name,
        }))
      : null,
  };
}
