import type { QueueDriver } from '../queue/queue-driver';
import type { Clock, Db, Logger } from '../shared/deps';

export const TASKS_QUEUE = 'tasks';

/** The job that runs a task; its id makes a repeated dispatch of the same attempt a no-op. */
export function taskJobId(taskId: string, attempt: number, ageLevel = 0): string {
  return `t_${taskId}_${attempt}${ageLevel > 0 ? `_a${ageLevel}` : ''}`;
}

interface OutboxPayload {
  taskId: string;
  attempt: number;
  priority: number;
}

/**
 * Moves dispatch outbox rows onto the queue, after the transaction that wrote them committed
 * (Redis is never written inside a database transaction). A crash between enqueue and delete
 * enqueues again later, which the job id and the atomic claim make harmless; an enqueue that
 * fails puts the rows back.
 */
export class Dispatcher {
  #scheduled = false;
  #running: Promise<void> | null = null;
  #again = false;

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

  /** Moves everything in the outbox to the queue; concurrent calls share one run. */
  async drain(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          while ((await this.#drainBatch()) === this.batchSize) {
            // a full batch: there may be more
          }
        } while (this.#again);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #drainBatch(): Promise<number> {
    const { db, queue, clock } = this.deps;
    const rows = await db
      .deleteFrom('task_dispatch_outbox')
      .where('id', 'in', (eb) =>
        eb.selectFrom('task_dispatch_outbox').select('id').orderBy('id').limit(this.batchSize).forUpdate().skipLocked(),
      )
      .returningAll()
      .execute();
    if (rows.length === 0) return 0;
    const now = clock.now().getTime();
    try {
      await queue.enqueueMany(
        TASKS_QUEUE,
        rows.map((row) => {
          const payload = row.payload as OutboxPayload;
          const delayMs = Math.max(0, row.available_at.getTime() - now);
          return {
            name: row.job_name,
            payload: { taskId: row.task_id },
            options: {
              jobId: taskJobId(row.task_id, payload.attempt),
              priority: payload.priority,
              ...(delayMs > 0 ? { delayMs } : {}),
            },
          };
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
