import { sql } from 'kysely';
import type { QueueDriver } from '../queue/queue-driver';
import type { Clock, Db, Logger } from '../shared/deps';
import { plainArray } from '../shared/pg-arrays';

export const TASKS_QUEUE = 'tasks';
/** The name of the job that runs a task. */
export const TASK_JOB = 'task.execute';

/** The job that runs a task; its id makes a repeated dispatch of the same attempt a no-op. */
export function taskJobId(taskId: string, attempt: number, ageLevel = 0): string {
  return `t_${taskId}_${attempt}${ageLevel > 0 ? `_a${ageLevel}` : ''}`;
}

interface OutboxPayload {
  taskId: string;
  attempt: number;
  priority: number;
}

/** A committed outbox row, handed over by the process that wrote it (see Dispatcher.handoff). */
export interface DispatchEntry {
  /** The outbox row's id. */
  id: string;
  taskId: string;
  attempt: number;
  priority: number;
  availableAt: Date;
}

/** How long handed-over rows wait before the statement that deletes them (many share one). */
const DELETE_LINGER_MS = 50;

/**
 * Moves dispatch outbox rows onto the queue, after the transaction that wrote them committed
 * (Redis is never written inside a database transaction). A crash between enqueue and delete
 * enqueues again later, which the job id and the atomic claim make harmless; an enqueue that
 * fails puts the rows back.
 *
 * The process that committed the rows may hand them over directly (`handoff`): they go onto the
 * queue at once, without the drain's round trip, and are deleted afterwards in batches. Until then
 * they stay in the outbox, so a crash in between loses nothing (a later drain enqueues them again).
 */
export class Dispatcher {
  #scheduled = false;
  #running: Promise<void> | null = null;
  /** A drain asked for while one runs: the youngest rows it wants (ms of age), or null. */
  #again: number | null = null;
  /** Outbox ids handed over and not yet deleted: this process's drains leave them alone. */
  readonly #handedOff = new Set<string>();
  #toDelete: string[] = [];
  #deleteTimer: NodeJS.Timeout | null = null;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deps: { db: Db; queue: QueueDriver; clock: Clock; log: Logger },
    private readonly batchSize = 500,
  ) {}

  /** Drains soon; many nudges in a burst make one drain. */
  nudge(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.drain().catch((err) => this.deps.log.warn({ err }, 'dispatch drain failed; the next drain retries'));
    });
  }

  /**
   * Puts outbox rows that just committed onto the queue now. If that fails they stay in the
   * outbox for the next drain (the maintenance pass runs one every second or so).
   */
  handoff(entries: readonly DispatchEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) this.#handedOff.add(entry.id);
    this.#track(this.#send(entries));
  }

  /** Waits for handovers under way and deletes the rows they moved (at shutdown). */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    if (this.#toDelete.length > 0) await this.#deleteHandedOff();
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #send(entries: readonly DispatchEntry[]): Promise<void> {
    const now = this.deps.clock.now().getTime();
    try {
      await this.deps.queue.enqueueMany(
        TASKS_QUEUE,
        entries.map((e) => jobFor(TASK_JOB, e.taskId, e.attempt, e.priority, e.availableAt, now)),
      );
    } catch (err) {
      for (const entry of entries) this.#handedOff.delete(entry.id);
      this.deps.log.warn({ err }, 'could not put tasks on the queue; they stay in the outbox for the next drain');
      return;
    }
    for (const entry of entries) this.#toDelete.push(entry.id);
    if (this.#toDelete.length >= this.batchSize) this.#track(this.#deleteHandedOff());
    else if (!this.#deleteTimer) {
      this.#deleteTimer = setTimeout(() => this.#track(this.#deleteHandedOff()), DELETE_LINGER_MS);
      this.#deleteTimer.unref();
    }
  }

  async #deleteHandedOff(): Promise<void> {
    if (this.#deleteTimer) clearTimeout(this.#deleteTimer);
    this.#deleteTimer = null;
    const ids = this.#toDelete.splice(0);
    if (ids.length === 0) return;
    try {
      // A delete lost to a database crash only repeats their dispatch: no need to wait for the flush.
      await this.deps.db
        .deleteFrom('task_dispatch_outbox')
        .where(sql<boolean>`id = any(${idArray(ids)})`)
        .where(sql<boolean>`(select set_config('synchronous_commit', 'off', true)) is not null`)
        .execute();
    } catch (err) {
      // They stay: a later drain enqueues them again, which the job ids make harmless.
      this.deps.log.warn({ err }, 'could not delete dispatched outbox rows; a later drain repeats them');
    } finally {
      for (const id of ids) this.#handedOff.delete(id);
    }
  }

  /**
   * Moves everything in the outbox to the queue; concurrent calls share one run. With `minAgeMs`,
   * only rows written at least that long ago: the safety net's drain (the maintenance pass) leaves
   * the newest rows to the process that wrote them, which hands them to the queue itself and
   * deletes them soon after (taking them too would only put their jobs on the queue twice).
   */
  async drain(options: { minAgeMs?: number } = {}): Promise<void> {
    const minAgeMs = Math.max(0, options.minAgeMs ?? 0);
    if (this.#running) {
      this.#again = Math.min(this.#again ?? minAgeMs, minAgeMs);
      return this.#running;
    }
    this.#again = minAgeMs;
    this.#running = (async () => {
      try {
        while (this.#again !== null) {
          const age = this.#again;
          this.#again = null;
          while ((await this.#drainBatch(age)) === this.batchSize) {
            // a full batch: there may be more
          }
        }
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #drainBatch(minAgeMs: number): Promise<number> {
    const { db, queue, clock } = this.deps;
    const skip = [...this.#handedOff];
    const rows = await db
      .deleteFrom('task_dispatch_outbox')
      .where('id', 'in', (eb) => {
        let pick = eb.selectFrom('task_dispatch_outbox').select('id');
        if (skip.length > 0) pick = pick.where(sql<boolean>`not (id = any(${idArray(skip)}))`);
        if (minAgeMs > 0) {
          // Database time, as the rows' created_at: the clock given to the dispatcher may be a test's.
          pick = pick.where(sql<boolean>`created_at <= now() - ${`${minAgeMs} milliseconds`}::interval`);
        }
        return pick.orderBy('id').limit(this.batchSize).forUpdate().skipLocked();
      })
      .returningAll()
      .execute();
    if (rows.length === 0) return 0;
    const now = clock.now().getTime();
    try {
      await queue.enqueueMany(
        TASKS_QUEUE,
        rows.map((row) => {
          const payload = row.payload as OutboxPayload;
          return jobFor(row.job_name, row.task_id, payload.attempt, payload.priority, row.available_at, now);
        }),
      );
    } catch (error) {
      await db
        .insertInto('task_dispatch_outbox')
        .values(rows.map(({ id: _id, ...row }) => ({ ...row, payload: JSON.stringify(row.payload) })))
        .execute()
        .catch(() => undefined); // the reconciler re-dispatches queued tasks without a job
      throw error;
    }
    return rows.length;
  }
}

/** The job of one dispatch: its id makes a repeat of the same attempt a no-op. */
function jobFor(name: string, taskId: string, attempt: number, priority: number, availableAt: Date, now: number) {
  const delayMs = Math.max(0, availableAt.getTime() - now);
  return {
    name,
    payload: { taskId },
    options: { jobId: taskJobId(taskId, attempt), priority, ...(delayMs > 0 ? { delayMs } : {}) },
  };
}

/** bigint ids (digits only) as one array parameter. */
const idArray = (ids: readonly string[]) => sql`${plainArray(ids)}::bigint[]`;
