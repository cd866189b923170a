import { randomUUID } from 'node:crypto';
import { type ActionData, type ActionOutput, OraError, type Task, type TaskStepInput } from '@ora/contracts';
import type { NewTaskRow, TaskChainTable, TaskRow } from '@ora/db';
import { type Insertable, sql } from 'kysely';
import { z } from 'zod';
import { runsOf } from '../agents/agents.repository';
import { recordAudit } from '../audit/audit';
import type { PendingEvent } from '../events/events';
import { Batcher } from '../shared/batcher';
import { pageFrom, timeIdAfter } from '../shared/cursor';
import type { Actor, Clock, Db, DbOrTx } from '../shared/deps';
import { executePrepared } from '../shared/prepared';
import { type PlannedStep, planDag } from './dag';
import type { DispatchEntry } from './dispatcher';
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
import { taskColumns } from './task-columns';
import { taskEventRowToEvent, taskRowToTask, tasksWithRelations } from './tasks.repository';

/** Told after a commit that wrote dispatch outbox rows, so they reach the queue at once. */
export interface DispatchNudge {
  nudge(): void;
  /** Takes the committed outbox rows themselves: they go onto the queue without a drain. */
  handoff?(entries: readonly DispatchEntry[]): void;
}

export interface TaskDeps {
  db: Db;
  clock: Clock;
  dispatch?: DispatchNudge;
  /** Shares one transaction among concurrent createTaskGraph calls (see createGraphBatcher). */
  graphs?: GraphBatcher;
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
  /** The steps in dependency order, from planDag (made once, before the graph joins a batch). */
  plan: PlannedStep[];
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
  const request = { actor, steps, plan: planDag(steps), options }; // a bad graph is refused before it joins a batch
  const [result] = deps.graphs ? [await deps.graphs.add(request)] : await createTaskGraphs(deps, [request]);
  if (!result?.ok) throw result?.error;
  return result.value;
}

/** Takes a graph to be written together with others (see createGraphBatcher). */
export interface GraphBatcher {
  add(request: GraphRequest): Promise<GraphResult>;
}

/**
 * Batches concurrent createTaskGraph calls into one statement. One batch runs at a time per lane:
 * calls made meanwhile join the next one, so under load a statement (and its commit) carries many
 * graphs. Graphs that name tasks already there (existing dependencies, which the write marks and so
 * locks, or a parent task) have a lane of their own: one of them waiting on a row lock held
 * elsewhere holds up only that lane, never the creation of unrelated graphs.
 */
export function createGraphBatcher(deps: Omit<TaskDeps, 'graphs'>, maxSize = 200): GraphBatcher {
  const lane = () =>
    new Batcher<GraphRequest, GraphResult>((requests) => createTaskGraphs(deps, requests), maxSize, 0, 1);
  const unlinked = lane();
  const linked = lane();
  return {
    add: (request) =>
      (request.options.parentTaskId || request.plan.some((p) => p.existingDeps.length > 0) ? linked : unlinked).add(
        request,
      ),
  };
}

/**
 * Writes several graphs at once, in one statement (after the reads that agents, existing
 * dependencies or a parent task need). A graph that cannot be written (unknown agent or
 * dependency, a refused agent) fails alone; if the batch itself fails, each graph is tried alone.
 * The outbox rows of the tasks ready to run are handed to the dispatcher after the commit.
 */
export async function createTaskGraphs(
  deps: Omit<TaskDeps, 'graphs'>,
  requests: GraphRequest[],
): Promise<GraphResult[]> {
  try {
    // Existing dependencies are marked and locked until the graph that depends on them is
    // written: that takes a transaction. Otherwise the write is one statement, atomic alone.
    const locks = requests.some((r) => r.plan.some((p) => p.existingDeps.length > 0));
    const { results, dispatch } = locks
      ? await deps.db.transaction().execute((trx) => writeGraphs(trx, deps.clock, requests))
      : await writeGraphs(deps.db, deps.clock, requests);
    if (dispatch.length > 0) {
      if (deps.dispatch?.handoff) deps.dispatch.handoff(dispatch);
      else deps.dispatch?.nudge();
    }
    return results;
  } catch (error) {
    if (requests.length === 1) return [{ ok: false, error }];
    return Promise.all(requests.map(async (request) => (await createTaskGraphs(deps, [request]))[0] as GraphResult));
  }
}

async function writeGraphs(
  db: DbOrTx,
  clock: Clock,
  requests: GraphRequest[],
): Promise<{ results: GraphResult[]; dispatch: DispatchEntry[] }> {
  const allSteps = requests.flatMap((r) => r.steps);
  const agentRefs = [...new Set(allSteps.map((s) => s.agent).filter((a): a is string => a !== undefined))];
  const existingIds = [...new Set(requests.flatMap((r) => r.plan.flatMap((p) => p.existingDeps)))];
  const parentIds = [...new Set(requests.map((r) => r.options.parentTaskId).filter((p): p is string => !!p))];
  const [agents, existing, parents] = await Promise.all([
    agentRefs.length ? lookupAgents(db, agentRefs) : Promise.resolve(new Map<string, { id: string; slug: string }>()),
    // Existing dependencies are marked (and so locked until the commit): a success that waits for
    // this lock then sees has_dependents and releases the new dependents (see the worker).
    existingIds.length
      ? db
          .updateTable('agent_tasks')
          .set({ has_dependents: true })
          .where('id', 'in', existingIds)
          .returning(['id', 'title', 'status'])
          .execute()
      : Promise.resolve([] as Array<Pick<TaskRow, 'id' | 'title' | 'status'>>),
    parentIds.length
      ? db.selectFrom('agent_tasks').select(['id', 'chain_id']).where('id', 'in', parentIds).execute()
      : Promise.resolve([] as Array<{ id: string; chain_id: string | null }>),
  ]);

  const now = clock.now();
  const results: GraphResult[] = [];
  const prepared: Array<{ index: number; graph: PreparedGraph }> = [];
  requests.forEach((request, index) => {
    try {
      prepared.push({
        index,
        graph: prepareGraph(request, agents, existing, parents, now),
      });
      results.push({ ok: true, value: { chainId: '', tasks: [] } });
    } catch (error) {
      results.push({ ok: false, error });
    }
  });
  if (prepared.length === 0) return { results, dispatch: [] };

  const graphs = prepared.map((p) => p.graph);
  const tasks = graphs.flatMap((g) => g.tasks);
  const edges = graphs.flatMap((g) => g.edges);
  const actorOf = new Map(graphs.flatMap((g) => g.tasks.map((t) => [t.id as string, g.request.actor] as const)));
  const pendingEvents: Array<{ actor: Actor | null; event: PendingEvent }> = [];
  for (const task of tasks) {
    const id = task.id as string;
    const status = task.status as TaskRow['status'];
    const message = task.status_message ?? null;
    const base = {
      taskId: id,
      chainId: task.chain_id ?? null,
      taskType: task.task_type,
      title: task.title,
      agentId: task.assigned_to ?? null,
      status,
    };
    const context = { taskId: id, agentId: task.assigned_to ?? null };
    const actor = actorOf.get(id) ?? null;
    pendingEvents.push({ actor, event: { type: 'task.created', payload: base, context } });
    if (status === 'waiting') {
      pendingEvents.push({
        actor,
        event: { type: 'task.waiting', payload: { ...base, reason: message ?? 'waiting' }, context },
      });
    }
    if (status === 'cancelled') {
      pendingEvents.push({ actor, event: { type: 'task.cancelled', payload: { ...base, reason: message }, context } });
    }
  }
  const ready = tasks
    .filter((t) => t.status === 'queued')
    .map((t) => ({
      id: t.id as string,
      attempt_count: 0,
      priority: t.priority ?? 0,
      scheduled_for: (t.scheduled_for as Date | null | undefined) ?? null,
      next_attempt_at: null,
    }));

  // Every table in one statement (data-modifying CTEs): one round trip, atomic without BEGIN/COMMIT.
  // Rows go in as one JSON parameter per table, so the statement's text is the same for any batch.
  const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
  for (const key of new Set(tasks.flatMap((t) => Object.keys(t)))) {
    if (!TASK_INSERT_COLUMNS.has(key)) throw new Error(`writeGraphs: agent_tasks.${key} is not in its insert`);
  }
  const outbox = ready.map((r) => {
    const row = dispatchRow(r, clock);
    return { ...row, payload: JSON.parse(row.payload) as unknown };
  });
  const { rows } = await executePrepared(
    db,
    sql<TaskRow & { outbox_id: string | null; outbox_available_at: Date | null }>`
    with new_chains as (
      insert into task_chains (id, title, workflow_name, token_budget, cost_budget, created_by_key_id)
      select * from jsonb_to_recordset(${json(graphs.map((g) => g.chain))}) as c(
        id uuid, title text, workflow_name text, token_budget bigint, cost_budget numeric, created_by_key_id uuid
      )
      on conflict (id) do nothing
    ),
    new_tasks as (
      insert into agent_tasks (
        id, chain_id, parent_task_id, assigned_to, delegated_by, task_type, title, description, instructions,
        input, priority, scheduled_for, deadline_at, max_attempts, requires_approval,
        run_anyway_on_dependency_failure, has_dependents, token_budget, cost_budget, model_override,
        related_post_id, workflow_name, workflow_version, source, created_by_key_id, idempotency_key, status,
        status_message, cancel_reason, completed_at, created_at, updated_at
      )
      select
        id, chain_id, parent_task_id, assigned_to, delegated_by, task_type, title, description, instructions::jsonb,
        input::jsonb, priority, scheduled_for, deadline_at, max_attempts, requires_approval,
        run_anyway_on_dependency_failure, has_dependents, token_budget, cost_budget, model_override,
        related_post_id, workflow_name, workflow_version, source, created_by_key_id, idempotency_key, status,
        status_message, cancel_reason, completed_at, created_at, updated_at
      from jsonb_to_recordset(${json(tasks)}) as t(
        id uuid, chain_id uuid, parent_task_id uuid, assigned_to uuid, delegated_by uuid, task_type text,
        title text, description text, instructions text, input text, priority integer, scheduled_for timestamptz,
        deadline_at timestamptz, max_attempts integer, requires_approval boolean,
        run_anyway_on_dependency_failure boolean, has_dependents boolean, token_budget integer, cost_budget numeric,
        model_override text, related_post_id uuid, workflow_name text, workflow_version integer, source text,
        created_by_key_id uuid, idempotency_key text, status text, status_message text, cancel_reason text,
        completed_at timestamptz, created_at timestamptz, updated_at timestamptz
      )
      returning ${taskColumns()}
    ),
    new_edges as (
      insert into task_dependencies (task_id, depends_on_task_id)
      select * from jsonb_to_recordset(${json(edges)}) as e(task_id uuid, depends_on_task_id uuid)
    ),
    new_log as (
      insert into task_events (task_id, from_status, to_status, message, attempt)
      select id, null, status, coalesce(status_message, 'created'), 0 from new_tasks
    ),
    new_events as (
      insert into events (type, payload, agent_id, task_id, key_id)
      select e->>'type', e->'payload', (e->>'agent_id')::uuid, (e->>'task_id')::uuid, (e->>'key_id')::uuid
      from jsonb_array_elements(${json(
        pendingEvents.map(({ actor, event }) => ({
          type: event.type,
          payload: event.payload,
          agent_id: event.context?.agentId ?? null,
          task_id: event.context?.taskId ?? null,
          key_id: actor?.keyId ?? null,
        })),
      )}) with ordinality as a(e, n)
      order by n
    ),
    new_outbox as (
      insert into task_dispatch_outbox (task_id, job_name, payload, available_at)
      select task_id, job_name, payload, available_at
      from jsonb_to_recordset(${json(outbox)}) as o(task_id uuid, job_name text, payload jsonb, available_at timestamptz)
      returning id, task_id, available_at
    ),
    new_audit as (
      insert into audit_log (key_id, action, target_type, target_id, ip, request_id, details)
      select * from jsonb_to_recordset(${json(
        graphs.map((g) => ({
          key_id: g.request.actor.keyId,
          action: g.request.options.workflow ? 'workflows.run' : 'tasks.create',
          target_type: 'task_chain',
          target_id: g.chain.id,
          ip: g.request.actor.ip,
          request_id: g.request.actor.requestId,
          details: { tasks: g.tasks.length, workflow: g.request.options.workflow?.name ?? null },
        })),
      )}) as a(key_id uuid, action text, target_type text, target_id text, ip text, request_id text, details jsonb)
    )
    select t.*, o.id as outbox_id, o.available_at as outbox_available_at
    from new_tasks t left join new_outbox o on o.task_id = t.id
  `,
  );

  const byId = new Map(rows.map((r) => [r.id, r]));
  const dispatch: DispatchEntry[] = rows
    .filter((r) => r.outbox_id !== null)
    .map((r) => ({
      id: r.outbox_id as string,
      taskId: r.id,
      attempt: r.attempt_count,
      priority: r.priority,
      availableAt: r.outbox_available_at as Date,
    }));
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
  return { results, dispatch };
}

/** The agent_tasks columns prepareGraph sets: the ones the insert in writeGraphs lists. */
const TASK_INSERT_COLUMNS = new Set([
  'id',
  'chain_id',
  'parent_task_id',
  'assigned_to',
  'delegated_by',
  'task_type',
  'title',
  'description',
  'instructions',
  'input',
  'priority',
  'scheduled_for',
  'deadline_at',
  'max_attempts',
  'requires_approval',
  'run_anyway_on_dependency_failure',
  'has_dependents',
  'token_budget',
  'cost_budget',
  'model_override',
  'related_post_id',
  'workflow_name',
  'workflow_version',
  'source',
  'created_by_key_id',
  'idempotency_key',
  'status',
  'status_message',
  'cancel_reason',
  'completed_at',
  'created_at',
  'updated_at',
]);

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
  agents: Map<string, { id: string; slug: string }>,
  existing: ReadonlyArray<Pick<TaskRow, 'id' | 'title' | 'status'>>,
  parents: ReadonlyArray<{ id: string; chain_id: string | null }>,
  now: Date,
): PreparedGraph {
  const { actor, steps, plan: order, options } = request;
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
  const dependedOn = new Set(order.flatMap((p) => p.localDeps));
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
      has_dependents: dependedOn.has(index),
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
  if (input.search) {
    // LIKE's own wildcards in the text are matched literally; the input is searched as its JSON text.
    const pattern = `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('title', 'ilike', pattern), eb(sql<string>`input::text`, 'ilike', pattern)]));
  }
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
