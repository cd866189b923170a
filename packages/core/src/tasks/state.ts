import { type EventType, type TaskStatus, terminalStatuses } from '@ora/contracts';
import type { TaskRow, TaskRowUpdate } from '@ora/db';
import { sql } from 'kysely';
import { recordEvent } from '../events/events';
import type { Actor, Clock, DbOrTx } from '../shared/deps';
import { plainArray } from '../shared/pg-arrays';
import { executePrepared } from '../shared/prepared';
import { TASK_JOB } from './dispatcher';
import { taskColumns } from './task-columns';

/** Events of the catalogue that a move into a status announces. */
const eventFor: Partial<Record<TaskStatus, EventType>> = {
  running: 'task.started',
  success: 'task.completed',
  error: 'task.failed',
  cancelled: 'task.cancelled',
  waiting: 'task.waiting',
  expired: 'task.expired',
};

export const isTerminal = (status: string) => (terminalStatuses as readonly string[]).includes(status);
export const terminalStatusList: Array<'success' | 'error' | 'cancelled' | 'expired'> = [
  'success',
  'error',
  'cancelled',
  'expired',
];

export interface TransitionOptions {
  message?: string | null;
  details?: Record<string, unknown>;
  /** Columns to set besides status (fenced writes add their own where clause before calling). */
  set?: TaskRowUpdate;
  /** Only when the row still has this lease token (a worker's fenced write). */
  leaseToken?: string;
  /** For task.failed: another attempt follows. */
  willRetry?: boolean;
}

/**
 * Moves a task to a status: the row, its event log entry and the domain event, in the caller's
 * transaction. Returns the updated row, or null when a fenced write lost its lease (or the task
 * was no longer in `from`).
 */
export async function transition(
  trx: DbOrTx,
  clock: Clock,
  actor: Pick<Actor, 'keyId'> | null,
  task: TaskRow,
  to: TaskStatus,
  options: TransitionOptions = {},
): Promise<TaskRow | null> {
  const now = clock.now();
  let update = trx
    .updateTable('agent_tasks')
    .set({
      ...options.set,
      status: to,
      ...(options.message !== undefined ? { status_message: options.message } : {}),
      updated_at: now,
    })
    .where('id', '=', task.id)
    .where('status', '=', task.status);
  if (options.leaseToken) update = update.where('lease_token', '=', options.leaseToken);
  const row = await update.returningAll().executeTakeFirst();
  if (!row) return null;
  await recordTransition(trx, actor, task.status, row, options);
  return row;
}

/** The event log row and domain event of a status change already written to `row`. */
export async function recordTransition(
  trx: DbOrTx,
  actor: Pick<Actor, 'keyId'> | null,
  from: TaskStatus | null,
  row: TaskRow,
  options: Pick<TransitionOptions, 'message' | 'details' | 'willRetry'> = {},
): Promise<void> {
  await trx
    .insertInto('task_events')
    .values({
      task_id: row.id,
      from_status: from,
      to_status: row.status,
      message: options.message ?? null,
      details: options.details ? JSON.stringify(options.details) : null,
      attempt: row.attempt_count,
    })
    .execute();
  await announce(trx, actor, row, row.status, options);
}

async function announce(
  trx: DbOrTx,
  actor: Pick<Actor, 'keyId'> | null,
  row: TaskRow,
  to: TaskStatus,
  options: TransitionOptions,
): Promise<void> {
  const type = eventFor[to] ?? (to === 'queued' && options.willRetry ? 'task.failed' : undefined);
  if (!type) return;
  const base = {
    taskId: row.id,
    chainId: row.chain_id,
    taskType: row.task_type,
    title: row.title,
    agentId: row.assigned_to,
    status: row.status,
  };
  const context = { taskId: row.id, agentId: row.assigned_to };
  switch (type) {
    case 'task.started':
      await recordEvent(trx, actor, type, { ...base, attempt: row.attempt_count }, context);
      return;
    case 'task.completed':
      await recordEvent(trx, actor, type, { ...base, output: row.output, durationMs: row.duration_ms }, context);
      return;
    case 'task.failed':
      await recordEvent(
        trx,
        actor,
        type,
        {
          ...base,
          error: row.error_message ?? options.message ?? 'failed',
          attempt: row.attempt_count,
          willRetry: options.willRetry === true,
        },
        context,
      );
      return;
    case 'task.cancelled':
      await recordEvent(trx, actor, type, { ...base, reason: options.message ?? null }, context);
      return;
    case 'task.waiting':
      await recordEvent(trx, actor, type, { ...base, reason: options.message ?? 'waiting' }, context);
      return;
    case 'task.expired':
      await recordEvent(
        trx,
        actor,
        type,
        { ...base, deadlineAt: (row.deadline_at ?? new Date()).toISOString() },
        context,
      );
      return;
    default:
      return;
  }
}

export type Readiness =
  | { status: 'pending' }
  | { status: 'queued' }
  | { status: 'waiting'; message: string }
  | { status: 'cancelled'; message: string; failedDependency: string };

/** Where a task stands given its dependencies: still waiting for them, blocked by one, or ready. */
export function readiness(
  task: Pick<TaskRow, 'requires_approval' | 'approved_at' | 'run_anyway_on_dependency_failure'>,
  dependencies: ReadonlyArray<Pick<TaskRow, 'id' | 'title' | 'status'>>,
): Readiness {
  if (dependencies.some((d) => !isTerminal(d.status))) return { status: 'pending' };
  const failed = dependencies.find((d) => d.status !== 'success');
  if (failed && !task.run_anyway_on_dependency_failure) {
    return {
      status: 'cancelled',
      message: `Dependency "${failed.title}" (${failed.id}) ended ${failed.status}`,
      failedDependency: failed.id,
    };
  }
  if (task.requires_approval && !task.approved_at)
    return { status: 'waiting', message: 'Waiting for approval (tasks.approve)' };
  return { status: 'queued' };
}

export const DEPENDENCY_FAILED = 'dependency_failed';

/**
 * Puts a task where its dependencies say it belongs (queued, waiting for approval, or cancelled
 * because one failed), writing the outbox row that dispatches a queued task. Returns the new row
 * if it moved.
 */
export async function settle(
  trx: DbOrTx,
  clock: Clock,
  actor: Pick<Actor, 'keyId'> | null,
  task: TaskRow,
  dependencies: ReadonlyArray<Pick<TaskRow, 'id' | 'title' | 'status'>>,
): Promise<TaskRow | null> {
  const state = readiness(task, dependencies);
  if (state.status === 'pending' || state.status === task.status) return null;
  if (state.status === 'cancelled') {
    return transition(trx, clock, actor, task, 'cancelled', {
      message: state.message,
      set: { cancel_reason: DEPENDENCY_FAILED, completed_at: clock.now() },
      details: { dependency: state.failedDependency },
    });
  }
  if (state.status === 'waiting') return transition(trx, clock, actor, task, 'waiting', { message: state.message });
  const row = await transition(trx, clock, actor, task, 'queued', { message: null });
  if (row) await enqueueDispatch(trx, row, clock);
  return row;
}

/** The outbox row that gets a queued task onto the queue after commit (at its time, if later). */
export function dispatchRow(
  task: Pick<TaskRow, 'id' | 'attempt_count' | 'priority' | 'scheduled_for' | 'next_attempt_at'>,
  clock: Clock,
) {
  const now = clock.now().getTime();
  const at = Math.max(now, task.scheduled_for?.getTime() ?? 0, task.next_attempt_at?.getTime() ?? 0);
  return {
    task_id: task.id,
    job_name: TASK_JOB,
    payload: JSON.stringify({ taskId: task.id, attempt: task.attempt_count, priority: task.priority }),
    available_at: new Date(at),
  };
}

export async function enqueueDispatch(trx: DbOrTx, task: TaskRow, clock: Clock): Promise<void> {
  await trx.insertInto('task_dispatch_outbox').values(dispatchRow(task, clock)).execute();
}

/**
 * After tasks ended (or were retried), moves their pending dependents on: dispatches the ones now
 * ready, cancels the ones a failure blocks, and so on down the graph.
 */
export async function releaseDependents(
  trx: DbOrTx,
  clock: Clock,
  actor: Pick<Actor, 'keyId'> | null,
  endedTaskIds: readonly string[],
): Promise<TaskRow[]> {
  const moved: TaskRow[] = [];
  let frontier = [...endedTaskIds];
  while (frontier.length > 0) {
    // After every batch of successes: one text for any number of tasks, so it is prepared once.
    const { rows: dependents } = await executePrepared(
      trx,
      sql<TaskRow>`
        select ${taskColumns()} from agent_tasks
        where status = 'pending'
          and id in (select task_id from task_dependencies where depends_on_task_id = any(${plainArray(frontier)}::uuid[]))
        order by id
        for update
      `,
    );
    frontier = [];
    if (dependents.length === 0) break;
    const edges = await trx
      .selectFrom('task_dependencies as d')
      .innerJoin('agent_tasks as t', 't.id', 'd.depends_on_task_id')
      .select(['d.task_id', 't.id', 't.title', 't.status'])
      .where(
        'd.task_id',
        'in',
        dependents.map((t) => t.id),
      )
      .execute();
    for (const dependent of dependents) {
      const deps = edges.filter((e) => e.task_id === dependent.id);
      const row = await settle(trx, clock, actor, dependent, deps);
      if (row) {
        moved.push(row);
        if (isTerminal(row.status)) frontier.push(row.id);
      }
    }
  }
  return moved;
}
