import { sql } from 'kysely';
import type { QueueDriver } from '../queue/queue-driver';
import type { Clock, Db, Logger } from '../shared/deps';
import { type Dispatcher, TASKS_QUEUE, taskJobId } from './dispatcher';
import { enqueueDispatch, releaseDependents, transition } from './state';

export interface MaintenanceDeps {
  db: Db;
  queue: QueueDriver;
  clock: Clock;
  log: Logger;
  dispatcher: Dispatcher;
}

export interface MaintenanceOptions {
  /** A queued task with no claim for this long is dispatched again (its job may be lost). */
  staleQueuedMs?: number;
  /** Every this long in the queue adds one to a task's dispatch priority, so low priority cannot starve. */
  agingStepMs?: number;
  batchSize?: number;
}

export interface MaintenanceReport {
  expired: number;
  leasesRecovered: number;
  redispatched: number;
}

/** Tasks past their deadline that never started end `expired`, and their dependents with them. */
export async function expireOverdueTasks(
  deps: Pick<MaintenanceDeps, 'db' | 'clock'>,
  batchSize = 200,
): Promise<number> {
  const { db, clock } = deps;
  return db.transaction().execute(async (trx) => {
    const overdue = await trx
      .selectFrom('agent_tasks')
      .selectAll()
      .where('status', 'in', ['pending', 'queued', 'waiting'])
      .where('deadline_at', '<=', clock.now())
      .orderBy('deadline_at')
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    const ended: string[] = [];
    for (const task of overdue) {
      const row = await transition(trx, clock, null, task, 'expired', {
        message: `deadline ${task.deadline_at?.toISOString()} passed before completion`,
        set: { completed_at: clock.now() },
      });
      if (row) ended.push(row.id);
    }
    if (ended.length) await releaseDependents(trx, clock, null, ended);
    return ended.length;
  });
}

/**
 * Running tasks whose lease ran out lost their worker (killed, partitioned): they go back to the
 * queue for another attempt, or fail when none is left, or end cancelled if that was asked.
 */
export async function recoverExpiredLeases(
  deps: Pick<MaintenanceDeps, 'db' | 'clock'>,
  batchSize = 200,
): Promise<number> {
  const { db, clock } = deps;
  return db.transaction().execute(async (trx) => {
    const lost = await trx
      .selectFrom('agent_tasks')
      .selectAll()
      .where('status', '=', 'running')
      .where('lease_expires_at', '<', sql<Date>`now()`)
      .orderBy('lease_expires_at')
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    const ended: string[] = [];
    const now = clock.now();
    const cleared = { lease_token: null, lease_expires_at: null, locked_by: null };
    for (const task of lost) {
      const who = task.locked_by ?? 'its worker';
      if (task.cancel_requested_at) {
        const row = await transition(trx, clock, null, task, 'cancelled', {
          message: task.cancel_reason ?? 'cancelled',
          set: { ...cleared, completed_at: now },
        });
        if (row) ended.push(row.id);
      } else if (task.attempt_count < task.max_attempts) {
        const row = await transition(trx, clock, null, task, 'queued', {
          message: `lease expired (${who} stopped answering); attempt ${task.attempt_count + 1} follows`,
          willRetry: true,
          set: { ...cleared, error_message: 'worker lost (lease expired)' },
        });
        if (row) await enqueueDispatch(trx, row, clock);
      } else {
        const row = await transition(trx, clock, null, task, 'error', {
          message: `lease expired (${who} stopped answering) on the last attempt`,
          set: { ...cleared, error_message: 'worker lost (lease expired)', completed_at: now },
        });
        if (row) ended.push(row.id);
      }
    }
    if (ended.length) await releaseDependents(trx, clock, null, ended);
    return lost.length;
  });
}

/**
 * Queued tasks that no worker claimed for a while are put on the queue again: their job may have
 * been lost with Redis. The new job carries a priority raised by the time waited (ageing).
 */
export async function redispatchStaleTasks(
  deps: Pick<MaintenanceDeps, 'db' | 'clock' | 'queue'>,
  options: Required<MaintenanceOptions>,
): Promise<number> {
  const { db, clock, queue } = deps;
  const now = clock.now();
  const stale = await db
    .selectFrom('agent_tasks')
    .select(['id', 'priority', 'attempt_count', 'created_at', 'scheduled_for', 'next_attempt_at', 'updated_at'])
    .where('status', '=', 'queued')
    .where('updated_at', '<', new Date(now.getTime() - options.staleQueuedMs))
    .where((eb) => eb.or([eb('scheduled_for', 'is', null), eb('scheduled_for', '<=', now)]))
    .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
    .orderBy('priority', 'desc')
    .orderBy('created_at')
    .limit(options.batchSize)
    .execute();
  if (stale.length === 0) return 0;
  await queue.enqueueMany(
    TASKS_QUEUE,
    stale.map((task) => {
      const readySince = Math.max(
        task.created_at.getTime(),
        task.scheduled_for?.getTime() ?? 0,
        task.next_attempt_at?.getTime() ?? 0,
      );
      const ageLevel = Math.max(1, Math.floor((now.getTime() - readySince) / options.agingStepMs));
      return {
        name: 'task.execute',
        payload: { taskId: task.id },
        options: { jobId: taskJobId(task.id, task.attempt_count, ageLevel), priority: task.priority + ageLevel },
      };
    }),
  );
  await db
    .updateTable('agent_tasks')
    .set({ updated_at: now })
    .where(
      'id',
      'in',
      stale.map((t) => t.id),
    )
    .where('status', '=', 'queued')
    .execute();
  return stale.length;
}

/**
 * Outbox rows younger than this are left to the process that wrote them (it hands them to the
 * queue right after its commit): the pass takes what a failed or crashed handover left behind.
 */
const OUTBOX_GRACE_MS = 2_000;

/** One pass of everything that keeps tasks moving without a request: run it every second or so. */
export async function runTaskMaintenance(
  deps: MaintenanceDeps,
  options: MaintenanceOptions = {},
): Promise<MaintenanceReport> {
  const settings = {
    staleQueuedMs: options.staleQueuedMs ?? 30_000,
    agingStepMs: options.agingStepMs ?? 30_000,
    batchSize: options.batchSize ?? 200,
  };
  const expired = await expireOverdueTasks(deps, settings.batchSize);
  const leasesRecovered = await recoverExpiredLeases(deps, settings.batchSize);
  await deps.dispatcher.drain({ minAgeMs: OUTBOX_GRACE_MS });
  const redispatched = await redispatchStaleTasks(deps, settings);
  return { expired, leasesRecovered, redispatched };
}
