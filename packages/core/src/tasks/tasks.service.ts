import { randomUUID } from 'node:crypto';
import { type ActionData, type ActionOutput, OraError, type Task, type TaskStepInput } from '@ora/contracts';
import type { NewTaskRow, TaskRow } from '@ora/db';
import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import { recordEvents } from '../events/events';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import type { Actor, Clock, Db, DbOrTx } from '../shared/deps';
import { planDag } from './dag';
import {
  DEPENDENCY_FAILED,
  enqueueDispatch,
  isTerminal,
  readiness,
  releaseDependents,
  settle,
  transition,
} from './state';
import { taskEventRowToEvent, taskRowToTask, tasksWithRelations } from './tasks.repository';

/** Told after a commit that wrote dispatch outbox rows, so they reach the queue at once. */
export interface DispatchNudge {
  nudge(): void;
}

export interface TaskDeps {
  db: Db;
  clock: Clock;
  dispatch?: DispatchNudge;
}

const notFound = (id: string) => new OraError({ code: 'NOT_FOUND', message: `No task with id ${id}` });

async function findTask(db: DbOrTx, actor: Actor, id: string, lock = false): Promise<TaskRow> {
  let query = db.selectFrom('agent_tasks').selectAll().where('id', '=', id);
  if (actor.agentId) query = query.where('assigned_to', '=', actor.agentId);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound(id);
  return row;
}

async function resolveAgents(db: DbOrTx, refs: readonly string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(refs)];
  if (wanted.length === 0) return new Map();
  const ids = wanted.filter((r) => z.uuid().safeParse(r).success);
  const rows = await db
    .selectFrom('agents')
    .select(['id', 'slug'])
    .where((eb) => eb.or([eb('slug', 'in', wanted), ...(ids.length ? [eb('id', 'in', ids)] : [])]))
    .execute();
  const found = new Map<string, string>();
  for (const row of rows) {
    found.set(row.slug, row.id);
    found.set(row.id, row.id);
  }
  const missing = wanted.filter((r) => !found.has(r));
  if (missing.length) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `Unknown agent ${missing.map((m) => `"${m}"`).join(', ')}; agents.status lists the agents`,
      details: {
        issues: missing.map((m) => ({ path: 'agent', message: `unknown agent ${m}`, code: 'unknown_agent' })),
      },
    });
  }
  return found;
}

export interface CreateOptions {
  workflow?: { name: string; version: number };
  chain?: { title?: string; tokenBudget?: number; costBudget?: number };
  parentTaskId?: string;
  source?: NewTaskRow['source'];
  delegatedBy?: string | null;
  /** Stored on the tasks so the same request cannot create them twice. */
  idempotencyKey?: string;
}

/**
 * Stores a whole DAG in one transaction: the tasks, their dependency edges, the chain, and
 * outbox rows for the tasks that can start now. Nothing reaches the queue before the commit.
 */
export async function createTaskGraph(
  deps: TaskDeps,
  actor: Actor,
  steps: readonly TaskStepInput[],
  options: CreateOptions = {},
): Promise<ActionOutput<'tasks.create'>> {
  const order = planDag(steps);
  const result = await deps.db.transaction().execute(async (trx) => {
    const agentIds = await resolveAgents(
      trx,
      steps.map((s) => s.agent).filter((a): a is string => a !== undefined),
    );
    if (actor.agentId) {
      const foreign = steps.find((s) => !s.agent || agentIds.get(s.agent) !== actor.agentId);
      if (foreign)
        throw new OraError({
          code: 'FORBIDDEN',
          message: 'A key bound to an agent can only create tasks for that agent',
        });
    }
    const existingIds = [...new Set(order.flatMap((p) => p.existingDeps))];
    const existing = existingIds.length
      ? await trx.selectFrom('agent_tasks').selectAll().where('id', 'in', existingIds).forShare().execute()
      : [];
    const missing = existingIds.filter((id) => !existing.some((t) => t.id === id));
    if (missing.length) {
      throw new OraError({
        code: 'VALIDATION_ERROR',
        message: `dependsOn names tasks that do not exist: ${missing.join(', ')}`,
        details: {
          issues: missing.map((id) => ({ path: 'dependsOn', message: `no task ${id}`, code: 'unknown_task' })),
        },
      });
    }

    const now = deps.clock.now();
    const ids = steps.map(() => randomUUID());
    const chainId = options.parentTaskId
      ? ((
          await trx
            .selectFrom('agent_tasks')
            .select('chain_id')
            .where('id', '=', options.parentTaskId)
            .executeTakeFirst()
        )?.chain_id ?? (ids[order[0]?.index ?? 0] as string))
      : (ids[order[0]?.index ?? 0] as string);
    await trx
      .insertInto('task_chains')
      .values({
        id: chainId,
        title: options.chain?.title ?? steps[order[0]?.index ?? 0]?.title ?? null,
        workflow_name: options.workflow?.name ?? null,
        token_budget: options.chain?.tokenBudget !== undefined ? String(options.chain.tokenBudget) : null,
        cost_budget: options.chain?.costBudget !== undefined ? String(options.chain.costBudget) : null,
        created_by_key_id: actor.keyId,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();

    // Each task starts where its dependencies put it (ready, pending, waiting for approval, or
    // blocked by a failed one), computed here in dependency order: one insert per table.
    const known = new Map<string, Pick<TaskRow, 'id' | 'title' | 'status'>>(existing.map((t) => [t.id, t]));
    const initial = new Map<string, { status: TaskRow['status']; message: string | null; blockedBy?: string }>();
    for (const { index, step, localDeps, existingDeps } of order) {
      const id = ids[index] as string;
      const depRows = [...localDeps.map((d) => ids[d] as string), ...existingDeps].map(
        (d) => known.get(d) as Pick<TaskRow, 'id' | 'title' | 'status'>,
      );
      const state = readiness(
        {
          requires_approval: step.requiresApproval ?? false,
          approved_at: null,
          run_anyway_on_dependency_failure: step.runAnywayOnDependencyFailure ?? false,
        },
        depRows,
      );
      const entry =
        state.status === 'cancelled'
          ? { status: state.status, message: state.message, blockedBy: state.failedDependency }
          : { status: state.status, message: state.status === 'waiting' ? state.message : null };
      initial.set(id, entry);
      known.set(id, { id, title: step.title, status: entry.status });
    }

    const rows = await trx
      .insertInto('agent_tasks')
      .values(
        order.map(({ index, step }) => {
          const id = ids[index] as string;
          const start = initial.get(id) as { status: TaskRow['status']; message: string | null };
          return {
            id,
            chain_id: chainId,
            parent_task_id: options.parentTaskId ?? null,
            assigned_to: step.agent ? (agentIds.get(step.agent) as string) : null,
            delegated_by: options.delegatedBy ?? null,
            task_type: step.taskType,
            title: step.title,
            description: step.description ?? null,
            instructions: step.instructions === undefined ? null : JSON.stringify(step.instructions),
            input: JSON.stringify(step.input ?? {}),
            priority: step.priority ?? 0,
            scheduled_for: step.scheduledFor ? new Date(step.scheduledFor) : null,
            deadline_at: step.deadlineAt ? new Date(step.deadlineAt) : null,
            max_attempts: step.maxAttempts ?? 3,
            requires_approval: step.requiresApproval ?? false,
            run_anyway_on_dependency_failure: step.runAnywayOnDependencyFailure ?? false,
            token_budget: step.tokenBudget ?? null,
            cost_budget: step.costBudget !== undefined ? String(step.costBudget) : null,
            model_override: step.modelOverride ?? null,
            related_post_id: step.relatedPostId ?? null,
            workflow_name: options.workflow?.name ?? null,
            workflow_version: options.workflow?.version ?? null,
            source: options.source ?? 'api',
            created_by_key_id: actor.keyId,
            idempotency_key: options.idempotencyKey ? `${options.idempotencyKey}#${index}` : null,
            status: start.status,
            status_message: start.message,
            ...(start.status === 'cancelled' ? { cancel_reason: DEPENDENCY_FAILED, completed_at: now } : {}),
            created_at: now,
            updated_at: now,
          };
        }),
      )
      .returningAll()
      .execute();

    const edges = order.flatMap(({ index, localDeps, existingDeps }) => [
      ...localDeps.map((d) => ({ task_id: ids[index] as string, depends_on_task_id: ids[d] as string })),
      ...existingDeps.map((d) => ({ task_id: ids[index] as string, depends_on_task_id: d })),
    ]);
    if (edges.length) await trx.insertInto('task_dependencies').values(edges).execute();
    await trx
      .insertInto('task_events')
      .values(
        rows.map((r) => ({
          task_id: r.id,
          from_status: null,
          to_status: r.status,
          message: r.status_message ?? 'created',
          attempt: 0,
        })),
      )
      .execute();
    await recordEvents(
      trx,
      actor,
      rows.flatMap((row) => {
        const base = {
          taskId: row.id,
          chainId: row.chain_id,
          taskType: row.task_type,
          title: row.title,
          agentId: row.assigned_to,
          status: row.status,
        };
        const context = { taskId: row.id, agentId: row.assigned_to };
        return [
          { type: 'task.created' as const, payload: base, context },
          ...(row.status === 'waiting'
            ? [
                {
                  type: 'task.waiting' as const,
                  payload: { ...base, reason: row.status_message ?? 'waiting' },
                  context,
                },
              ]
            : []),
          ...(row.status === 'cancelled'
            ? [{ type: 'task.cancelled' as const, payload: { ...base, reason: row.status_message }, context }]
            : []),
        ];
      }),
    );
    for (const row of rows) if (row.status === 'queued') await enqueueDispatch(trx, row, deps.clock);
    const byId = new Map(rows.map((r) => [r.id, r]));
    await recordAudit(trx, actor, {
      action: options.workflow ? 'workflows.run' : 'tasks.create',
      targetType: 'task_chain',
      targetId: chainId,
      details: { tasks: ids.length, workflow: options.workflow?.name ?? null },
    });
    const slugs = new Map([...agentIds.entries()].map(([ref, id]) => [id, ref]));
    for (const [ref, id] of agentIds) if (ref !== id) slugs.set(id, ref);
    const dependsOn = (id: string) =>
      edges
        .filter((e) => e.task_id === id)
        .map((e) => e.depends_on_task_id)
        .sort();
    return {
      chainId,
      tasks: ids.map((id) => {
        const row = byId.get(id) as TaskRow;
        return taskRowToTask(row, {
          agentSlug: row.assigned_to ? (slugs.get(row.assigned_to) ?? null) : null,
          dependsOn: dependsOn(id),
        });
      }),
    };
  });
  deps.dispatch?.nudge();
  return { chainId: result.chainId, tasks: result.tasks };
}

export function createTasks(deps: TaskDeps, actor: Actor, input: ActionData<'tasks.create'>, idempotencyKey?: string) {
  const steps = 'steps' in input ? input.steps : [input];
  return createTaskGraph(deps, actor, steps, {
    ...(input.chain ? { chain: input.chain } : {}),
    ...(input.parentTaskId ? { parentTaskId: input.parentTaskId } : {}),
    ...(input.source ? { source: input.source } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
}

export async function listTasks(
  deps: Pick<TaskDeps, 'db'>,
  actor: Actor,
  input: ActionData<'tasks.list'>,
): Promise<ActionOutput<'tasks.list'>> {
  let query = deps.db
    .selectFrom('agent_tasks')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (actor.agentId) query = query.where('assigned_to', '=', actor.agentId);
  if (input.status) query = query.where('status', 'in', Array.isArray(input.status) ? input.status : [input.status]);
  if (input.taskType) query = query.where('task_type', '=', input.taskType);
  if (input.parentTaskId) query = query.where('parent_task_id', '=', input.parentTaskId);
  if (input.chainId) query = query.where('chain_id', '=', input.chainId);
  if (input.createdAfter) query = query.where('created_at', '>=', new Date(input.createdAfter));
  if (input.createdBefore) query = query.where('created_at', '<', new Date(input.createdBefore));
  if (input.agent) {
    const agents = await resolveAgents(deps.db, [input.agent]);
    query = query.where('assigned_to', '=', agents.get(input.agent) as string);
  }
  if (input.cursor) {
    const [createdAt, id] = decodeCursor(input.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(createdAt), id)));
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: await tasksWithRelations(deps.db, items),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
  };
}

export async function getTask(
  deps: Pick<TaskDeps, 'db'>,
  actor: Actor,
  id: string,
): Promise<ActionOutput<'tasks.get'>> {
  const row = await findTask(deps.db, actor, id);
  const [[task], dependencyRows, dependentRows, events, runs] = await Promise.all([
    tasksWithRelations(deps.db, [row]),
    deps.db
      .selectFrom('agent_tasks')
      .selectAll()
      .where('id', 'in', (eb) =>
        eb.selectFrom('task_dependencies').select('depends_on_task_id').where('task_id', '=', id),
      )
      .execute(),
    deps.db
      .selectFrom('agent_tasks')
      .selectAll()
      .where('id', 'in', (eb) =>
        eb.selectFrom('task_dependencies').select('task_id').where('depends_on_task_id', '=', id),
      )
      .execute(),
    deps.db.selectFrom('task_events').selectAll().where('task_id', '=', id).orderBy('id').execute(),
    deps.db.selectFrom('agent_runs').selectAll().where('task_id', '=', id).orderBy('started_at').execute(),
  ]);
  const summary = (t: Task) => ({
    id: t.id,
    title: t.title,
    taskType: t.taskType,
    status: t.status,
    agentSlug: t.agentSlug,
  });
  return {
    ...(task as Task),
    dependencies: (await tasksWithRelations(deps.db, dependencyRows)).map(summary),
    dependents: (await tasksWithRelations(deps.db, dependentRows)).map(summary),
    events: events.map(taskEventRowToEvent),
    runs: runs.map((r) => ({
      id: r.id,
      agentId: r.agent_id,
      status: r.status,
      provider: r.provider,
      model: r.model,
      totalTokens: r.total_tokens,
      cost: Number(r.cost),
      durationMs: r.duration_ms,
      errorMessage: r.error_message,
      startedAt: r.started_at.toISOString(),
      completedAt: r.completed_at?.toISOString() ?? null,
    })),
  };
}

async function one(db: DbOrTx, row: TaskRow): Promise<Task> {
  return (await tasksWithRelations(db, [row]))[0] as Task;
}

export async function updateTask(deps: TaskDeps, actor: Actor, input: ActionData<'tasks.update'>): Promise<Task> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const task = await findTask(trx, actor, input.id, true);
    const editable = task.status === 'pending' || task.status === 'queued' || task.status === 'waiting';
    if (!editable) {
      throw new OraError({
        code: 'CONFLICT',
        message: `Task ${task.id} is ${task.status}; only pending, queued or waiting tasks can be changed`,
      });
    }
    const now = deps.clock.now();
    const changes = {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.instructions !== undefined ? { instructions: JSON.stringify(input.instructions) } : {}),
      ...(input.input !== undefined ? { input: JSON.stringify({ ...(task.input as object), ...input.input }) } : {}),
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.scheduledFor !== undefined
        ? { scheduled_for: input.scheduledFor ? new Date(input.scheduledFor) : null }
        : {}),
      ...(input.deadlineAt !== undefined ? { deadline_at: input.deadlineAt ? new Date(input.deadlineAt) : null } : {}),
      ...(input.maxAttempts !== undefined ? { max_attempts: input.maxAttempts } : {}),
    };
    let updated = await trx
      .updateTable('agent_tasks')
      .set({ ...changes, updated_at: now })
      .where('id', '=', task.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.resume) {
      if (task.status !== 'waiting') {
        throw new OraError({
          code: 'CONFLICT',
          message: `Task ${task.id} is ${task.status}, not waiting: nothing to resume`,
        });
      }
      if (task.requires_approval && !task.approved_at) {
        throw new OraError({ code: 'CONFLICT', message: 'This task waits for approval: use tasks.approve' });
      }
      updated = (await transition(trx, deps.clock, actor, updated, 'queued', { message: 'resumed' })) ?? updated;
      await enqueueDispatch(trx, updated, deps.clock);
    } else if (updated.status === 'queued' && (input.scheduledFor !== undefined || input.priority !== undefined)) {
      await enqueueDispatch(trx, updated, deps.clock);
    }
    await recordAudit(trx, actor, {
      action: 'tasks.update',
      targetType: 'task',
      targetId: task.id,
      details: { changed: Object.keys(changes), resume: input.resume ?? false },
    });
    return updated;
  });
  deps.dispatch?.nudge();
  return one(deps.db, row);
}

/**
 * Cancels a task. One that has not started ends at once (and its dependents with it); a running
 * one is flagged, and its worker aborts it at the next heartbeat.
 */
export async function cancelTask(deps: TaskDeps, actor: Actor, input: ActionData<'tasks.cancel'>): Promise<Task> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const task = await findTask(trx, actor, input.id, true);
    if (isTerminal(task.status)) return task;
    const reason = input.reason ?? 'cancelled on request';
    const now = deps.clock.now();
    let result: TaskRow;
    if (task.status === 'running') {
      result = await trx
        .updateTable('agent_tasks')
        .set({ cancel_requested_at: now, cancel_reason: reason, status_message: 'cancelling', updated_at: now })
        .where('id', '=', task.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    } else {
      result =
        (await transition(trx, deps.clock, actor, task, 'cancelled', {
          message: reason,
          set: { cancel_requested_at: now, cancel_reason: reason, completed_at: now },
        })) ?? task;
      await releaseDependents(trx, deps.clock, actor, [task.id]);
    }
    await recordAudit(trx, actor, {
      action: 'tasks.cancel',
      targetType: 'task',
      targetId: task.id,
      details: { reason },
    });
    return result;
  });
  return one(deps.db, row);
}

/** Runs a task that ended without success again; dependents it had blocked come back with it. */
export async function retryTask(deps: TaskDeps, actor: Actor, input: ActionData<'tasks.retry'>): Promise<Task> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const task = await findTask(trx, actor, input.id, true);
    if (!['error', 'cancelled', 'expired'].includes(task.status)) {
      throw new OraError({
        code: 'CONFLICT',
        message: `Task ${task.id} is ${task.status}; only failed, cancelled or expired tasks can be retried`,
      });
    }
    const now = deps.clock.now();
    const reset = await transition(trx, deps.clock, actor, task, 'pending', {
      message: input.modelOverride ? `retry on ${input.modelOverride}` : 'retry',
      set: {
        attempt_count: 0,
        error_message: null,
        cancel_requested_at: null,
        cancel_reason: null,
        completed_at: null,
        next_attempt_at: null,
        lease_token: null,
        lease_expires_at: null,
        ...(input.modelOverride ? { model_override: input.modelOverride } : {}),
        ...(task.deadline_at && task.deadline_at <= now ? { deadline_at: null } : {}),
      },
    });
    if (!reset) throw new OraError({ code: 'CONFLICT', message: `Task ${task.id} changed meanwhile; try again` });
    const depRows = await trx
      .selectFrom('agent_tasks')
      .select(['id', 'title', 'status'])
      .where('id', 'in', (eb) =>
        eb.selectFrom('task_dependencies').select('depends_on_task_id').where('task_id', '=', task.id),
      )
      .execute();
    const settled = (await settle(trx, deps.clock, actor, reset, depRows)) ?? reset;
    await reviveBlockedDependents(trx, deps.clock, actor, task.id);
    await recordAudit(trx, actor, {
      action: 'tasks.retry',
      targetType: 'task',
      targetId: task.id,
      details: { modelOverride: input.modelOverride ?? null },
    });
    return settled;
  });
  deps.dispatch?.nudge();
  return one(deps.db, row);
}

/** Dependents cancelled only because `taskId` failed go back to pending, down the graph. */
async function reviveBlockedDependents(trx: DbOrTx, clock: Clock, actor: Actor, taskId: string): Promise<void> {
  let frontier = [taskId];
  while (frontier.length) {
    const blocked = await trx
      .selectFrom('agent_tasks')
      .selectAll()
      .where('status', '=', 'cancelled')
      .where('cancel_reason', '=', DEPENDENCY_FAILED)
      .where('id', 'in', (eb) =>
        eb.selectFrom('task_dependencies').select('task_id').where('depends_on_task_id', 'in', frontier),
      )
      .forUpdate()
      .execute();
    frontier = [];
    for (const task of blocked) {
      const revived = await transition(trx, clock, actor, task, 'pending', {
        message: 'dependency retried',
        set: { cancel_reason: null, cancel_requested_at: null, completed_at: null },
      });
      if (revived) frontier.push(revived.id);
    }
  }
}

export async function approveTask(deps: TaskDeps, actor: Actor, input: ActionData<'tasks.approve'>): Promise<Task> {
  if (!input.approved) {
    return cancelTask(deps, actor, { id: input.id, reason: input.reason ?? 'approval refused' });
  }
  const row = await deps.db.transaction().execute(async (trx) => {
    const task = await findTask(trx, actor, input.id, true);
    if (!task.requires_approval) {
      throw new OraError({ code: 'CONFLICT', message: `Task ${task.id} does not require approval` });
    }
    if (task.approved_at) return task;
    if (isTerminal(task.status) || task.status === 'running') {
      throw new OraError({ code: 'CONFLICT', message: `Task ${task.id} is ${task.status}; nothing to approve` });
    }
    const now = deps.clock.now();
    const approved = await trx
      .updateTable('agent_tasks')
      .set({ approved_at: now, approved_by_key_id: actor.keyId, updated_at: now })
      .where('id', '=', task.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    let result = approved;
    if (approved.status === 'waiting') {
      result =
        (await transition(trx, deps.clock, actor, approved, 'queued', { message: input.reason ?? 'approved' })) ??
        approved;
      await enqueueDispatch(trx, result, deps.clock);
    }
    await recordAudit(trx, actor, { action: 'tasks.approve', targetType: 'task', targetId: task.id, details: {} });
    return result;
  });
  deps.dispatch?.nudge();
  return one(deps.db, row);
}

export async function agentsStatus(deps: Pick<TaskDeps, 'db'>, actor: Actor): Promise<ActionOutput<'agents.status'>> {
  let agentsQuery = deps.db.selectFrom('agents').select(['id', 'slug', 'name']).orderBy('slug');
  if (actor.agentId) agentsQuery = agentsQuery.where('id', '=', actor.agentId);
  let countsQuery = deps.db
    .selectFrom('agent_tasks')
    .select(['assigned_to', 'status', (eb) => eb.fn.countAll<string>().as('count')])
    .where('status', '!=', 'cancelled')
    .groupBy(['assigned_to', 'status']);
  if (actor.agentId) countsQuery = countsQuery.where('assigned_to', '=', actor.agentId);
  const [agents, counts] = await Promise.all([agentsQuery.execute(), countsQuery.execute()]);
  const tally = (agentId: string | null, status: string) =>
    Number(counts.find((c) => c.assigned_to === agentId && c.status === status)?.count ?? 0);
  const line = (agentId: string | null, slug: string | null, name: string) => ({
    agentId,
    slug,
    name,
    pending: tally(agentId, 'pending'),
    queued: tally(agentId, 'queued'),
    running: tally(agentId, 'running'),
    waiting: tally(agentId, 'waiting'),
    failed: tally(agentId, 'error') + tally(agentId, 'expired'),
    succeeded: tally(agentId, 'success'),
  });
  return {
    agents: [
      ...agents.map((a) => line(a.id, a.slug, a.name)),
      ...(actor.agentId ? [] : [line(null, null, 'system tasks')]),
    ],
  };
}
