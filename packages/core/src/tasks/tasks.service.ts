import { randomUUID } from 'node:crypto';
import { type ActionData, type ActionOutput, OraError, type Task, type TaskStepInput } from '@ora/contracts';
import type { NewTaskRow, TaskChainTable, TaskRow } from '@ora/db';
import type { Insertable } from 'kysely';
import { z } from 'zod';
import { runsOf } from '../agents/agents.repository';
import { recordAudit } from '../audit/audit';
import type { PendingEvent } from '../events/events';
import { Batcher } from '../shared/batcher';
import { pageFrom, timeIdAfter } from '../shared/cursor';
import type { Actor, Clock, Db, DbOrTx } from '../shared/deps';
import { type PlannedStep, planDag } from './dag';
import {
  DEPENDENCY_FAILED,
  dispatchRow,
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
  /** Shares one transaction among concurrent createTaskGraph calls (see createGraphBatcher). */
  graphs?: Batcher<GraphRequest, GraphResult>;
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

export interface GraphRequest {
  actor: Actor;
  steps: readonly TaskStepInput[];
  options: CreateOptions;
}

type GraphResult = { ok: true; value: ActionOutput<'tasks.create'> } | { ok: false; error: unknown };

/** Rows one graph adds, gathered so a batch of graphs is written with one insert per table. */
interface PreparedGraph {
  request: GraphRequest;
  chain: NewTaskChain;
  tasks: NewTaskRow[];
  edges: Array<{ task_id: string; depends_on_task_id: string }>;
  slugs: Map<string, string>;
}
type NewTaskChain = Insertable<TaskChainTable>;

/**
 * Stores a whole DAG in one transaction: the tasks, their dependency edges, the chain, the event
 * log, the domain events and outbox rows for the tasks that can start now. Nothing reaches the
 * queue before the commit. With `deps.graphs`, concurrent calls share one transaction.
 */
export async function createTaskGraph(
  deps: TaskDeps,
  actor: Actor,
  steps: readonly TaskStepInput[],
  options: CreateOptions = {},
): Promise<ActionOutput<'tasks.create'>> {
  planDag(steps); // refuse a bad graph before it joins a batch
  const request = { actor, steps, options };
  const [result] = deps.graphs ? [await deps.graphs.add(request)] : await createTaskGraphs(deps, [request]);
  if (!result?.ok) throw result?.error;
  return result.value;
}

/** Batches concurrent createTaskGraph calls into one transaction (one insert per table). */
export function createGraphBatcher(deps: Omit<TaskDeps, 'graphs'>, maxSize = 200): Batcher<GraphRequest, GraphResult> {
  return new Batcher((requests) => createTaskGraphs(deps, requests), maxSize);
}

/**
 * Writes several graphs in one transaction. A graph that cannot be written (unknown agent or
 * dependency, a refused agent) fails alone; if the batch itself fails, each graph is tried alone.
 */
export async function createTaskGraphs(
  deps: Omit<TaskDeps, 'graphs'>,
  requests: GraphRequest[],
): Promise<GraphResult[]> {
  try {
    const results = await deps.db.transaction().execute((trx) => writeGraphs(trx, deps.clock, requests));
    deps.dispatch?.nudge();
    return results;
  } catch (error) {
    if (requests.length === 1) return [{ ok: false, error }];
    return Promise.all(requests.map(async (request) => (await createTaskGraphs(deps, [request]))[0] as GraphResult));
  }
}

async function writeGraphs(trx: DbOrTx, clock: Clock, requests: GraphRequest[]): Promise<GraphResult[]> {
  const allSteps = requests.flatMap((r) => r.steps);
  const agentRefs = [...new Set(allSteps.map((s) => s.agent).filter((a): a is string => a !== undefined))];
  const plans = requests.map((r) => planDag(r.steps));
  const existingIds = [...new Set(plans.flatMap((order) => order.flatMap((p) => p.existingDeps)))];
  const parentIds = [...new Set(requests.map((r) => r.options.parentTaskId).filter((p): p is string => !!p))];
  const [agents, existing, parents] = await Promise.all([
    agentRefs.length ? lookupAgents(trx, agentRefs) : Promise.resolve(new Map<string, { id: string; slug: string }>()),
    existingIds.length
      ? trx
          .selectFrom('agent_tasks')
          .select(['id', 'title', 'status'])
          .where('id', 'in', existingIds)
          .forShare()
          .execute()
      : Promise.resolve([] as Array<Pick<TaskRow, 'id' | 'title' | 'status'>>),
    parentIds.length
      ? trx.selectFrom('agent_tasks').select(['id', 'chain_id']).where('id', 'in', parentIds).execute()
      : Promise.resolve([] as Array<{ id: string; chain_id: string | null }>),
  ]);

  const now = clock.now();
  const results: GraphResult[] = [];
  const prepared: Array<{ index: number; graph: PreparedGraph }> = [];
  requests.forEach((request, index) => {
    try {
      prepared.push({
        index,
        graph: prepareGraph(request, plans[index] as PlannedStep[], agents, existing, parents, now),
      });
      results.push({ ok: true, value: { chainId: '', tasks: [] } });
    } catch (error) {
      results.push({ ok: false, error });
    }
  });
  if (prepared.length === 0) return results;

  const graphs = prepared.map((p) => p.graph);
  await trx
    .insertInto('task_chains')
    .values(graphs.map((g) => g.chain))
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const rows = await trx
    .insertInto('agent_tasks')
    .values(graphs.flatMap((g) => g.tasks))
    .returningAll()
    .execute();
  const edges = graphs.flatMap((g) => g.edges);
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
  const actorOf = new Map(graphs.flatMap((g) => g.tasks.map((t) => [t.id as string, g.request.actor] as const)));
  const pendingEvents: Array<{ actor: Actor | null; event: PendingEvent }> = [];
  for (const row of rows) {
    const base = {
      taskId: row.id,
      chainId: row.chain_id,
      taskType: row.task_type,
      title: row.title,
      agentId: row.assigned_to,
      status: row.status,
    };
    const context = { taskId: row.id, agentId: row.assigned_to };
    pendingEvents.push(
      { actor: actorOf.get(row.id) ?? null, event: { type: 'task.created', payload: base, context } },
      ...(row.status === 'waiting'
        ? [
            {
              actor: actorOf.get(row.id) ?? null,
              event: {
                type: 'task.waiting' as const,
                payload: { ...base, reason: row.status_message ?? 'waiting' },
                context,
              },
            },
          ]
        : []),
      ...(row.status === 'cancelled'
        ? [
            {
              actor: actorOf.get(row.id) ?? null,
              event: { type: 'task.cancelled' as const, payload: { ...base, reason: row.status_message }, context },
            },
          ]
        : []),
    );
  }
  await trx
    .insertInto('events')
    .values(
      pendingEvents.map(({ actor, event }) => ({
        type: event.type,
        payload: JSON.stringify(event.payload),
        agent_id: event.context?.agentId ?? null,
        task_id: event.context?.taskId ?? null,
        key_id: actor?.keyId ?? null,
      })),
    )
    .execute();
  const ready = rows.filter((r) => r.status === 'queued');
  if (ready.length)
    await trx
      .insertInto('task_dispatch_outbox')
      .values(ready.map((r) => dispatchRow(r, clock)))
      .execute();
  await trx
    .insertInto('audit_log')
    .values(
      graphs.map((g) => ({
        key_id: g.request.actor.keyId,
        action: g.request.options.workflow ? 'workflows.run' : 'tasks.create',
        target_type: 'task_chain',
        target_id: g.chain.id,
        ip: g.request.actor.ip,
        request_id: g.request.actor.requestId,
        details: JSON.stringify({ tasks: g.tasks.length, workflow: g.request.options.workflow?.name ?? null }),
      })),
    )
    .execute();

  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const { index, graph } of prepared) {
    results[index] = {
      ok: true,
      value: {
        chainId: graph.chain.id,
        tasks: graph.tasks.map((t) => {
          const row = byId.get(t.id as string) as TaskRow;
          return taskRowToTask(row, {
            agentSlug: row.assigned_to ? (graph.slugs.get(row.assigned_to) ?? null) : null,
            dependsOn: graph.edges
              .filter((e) => e.task_id === row.id)
              .map((e) => e.depends_on_task_id)
              .sort(),
          });
        }),
      },
    };
  }
  return results;
}

async function lookupAgents(db: DbOrTx, refs: readonly string[]): Promise<Map<string, { id: string; slug: string }>> {
  const ids = refs.filter((r) => z.uuid().safeParse(r).success);
  const rows = await db
    .selectFrom('agents')
    .select(['id', 'slug'])
    .where((eb) => eb.or([eb('slug', 'in', refs), ...(ids.length ? [eb('id', 'in', ids)] : [])]))
    .execute();
  const found = new Map<string, { id: string; slug: string }>();
  for (const row of rows) {
    found.set(row.slug, row);
    found.set(row.id, row);
  }
  return found;
}

function prepareGraph(
  request: GraphRequest,
  order: PlannedStep[],
  agents: Map<string, { id: string; slug: string }>,
  existing: ReadonlyArray<Pick<TaskRow, 'id' | 'title' | 'status'>>,
  parents: ReadonlyArray<{ id: string; chain_id: string | null }>,
  now: Date,
): PreparedGraph {
  const { actor, steps, options } = request;
  const missingAgents = [
    ...new Set(steps.map((s) => s.agent).filter((a): a is string => a !== undefined && !agents.has(a))),
  ];
  if (missingAgents.length) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `Unknown agent ${missingAgents.map((m) => `"${m}"`).join(', ')}; agents.status lists the agents`,
      details: {
        issues: missingAgents.map((m) => ({ path: 'agent', message: `unknown agent ${m}`, code: 'unknown_agent' })),
      },
    });
  }
  if (actor.agentId && steps.some((s) => !s.agent || agents.get(s.agent)?.id !== actor.agentId)) {
    throw new OraError({ code: 'FORBIDDEN', message: 'A key bound to an agent can only create tasks for that agent' });
  }
  const missing = [...new Set(order.flatMap((p) => p.existingDeps))].filter((id) => !existing.some((t) => t.id === id));
  if (missing.length) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `dependsOn names tasks that do not exist: ${missing.join(', ')}`,
      details: { issues: missing.map((id) => ({ path: 'dependsOn', message: `no task ${id}`, code: 'unknown_task' })) },
    });
  }
  if (options.parentTaskId && !parents.some((p) => p.id === options.parentTaskId)) {
    throw new OraError({ code: 'VALIDATION_ERROR', message: `parentTaskId names no task: ${options.parentTaskId}` });
  }

  const ids = steps.map(() => randomUUID());
  const root = ids[order[0]?.index ?? 0] as string;
  const chainId = (options.parentTaskId && parents.find((p) => p.id === options.parentTaskId)?.chain_id) || root;

  // Each task starts where its dependencies put it (ready, pending, waiting for approval, or
  // blocked by a failed one), computed in dependency order.
  const known = new Map<string, Pick<TaskRow, 'id' | 'title' | 'status'>>(existing.map((t) => [t.id, t]));
  const tasks: NewTaskRow[] = [];
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
    const message = state.status === 'cancelled' || state.status === 'waiting' ? state.message : null;
    known.set(id, { id, title: step.title, status: state.status });
    tasks.push({
      id,
      chain_id: chainId,
      parent_task_id: options.parentTaskId ?? null,
      assigned_to: step.agent ? (agents.get(step.agent)?.id as string) : null,
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
      status: state.status,
      status_message: message,
      ...(state.status === 'cancelled' ? { cancel_reason: DEPENDENCY_FAILED, completed_at: now } : {}),
      created_at: now,
      updated_at: now,
    });
  }
  const slugs = new Map([...agents.values()].map((a) => [a.id, a.slug]));
  return {
    request,
    chain: {
      id: chainId,
      title: options.chain?.title ?? steps[order[0]?.index ?? 0]?.title ?? null,
      workflow_name: options.workflow?.name ?? null,
      token_budget: options.chain?.tokenBudget !== undefined ? String(options.chain.tokenBudget) : null,
      cost_budget: options.chain?.costBudget !== undefined ? String(options.chain.costBudget) : null,
      created_by_key_id: actor.keyId,
    },
    tasks,
    edges: order.flatMap(({ index, localDeps, existingDeps }) => [
      ...localDeps.map((d) => ({ task_id: ids[index] as string, depends_on_task_id: ids[d] as string })),
      ...existingDeps.map((d) => ({ task_id: ids[index] as string, depends_on_task_id: d })),
    ]),
    slugs,
  };
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
  const after = timeIdAfter(input.cursor);
  if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(...after)));
  const page = pageFrom(
    await query.execute(),
    input.limit,
    (row) => [row.created_at.toISOString(), row.id],
    (row) => row,
  );
  return { items: await tasksWithRelations(deps.db, page.items), nextCursor: page.nextCursor };
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
    runsOf(deps.db, { taskId: id }),
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
    runs,
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
