import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type QueueJobStatus = 'waiting' | 'active' | 'completed' | 'failed';

/** A job of the embedded queue driver. Delayed jobs are `waiting` with `run_at` in the future. */
export interface QueueJobTable {
  queue: string;
  /** The job id given at enqueue (deduplicates), or a random UUID. */
  id: string;
  /** bigserial, as a string: the order of adding, for FIFO within one priority and due time. */
  seq: Generated<string>;
  name: string;
  payload: Generated<unknown>;
  /** Higher runs first. */
  priority: Generated<number>;
  /** Due time: now at enqueue, later for a delay or a retry's backoff. */
  run_at: Generated<Date>;
  /** Tries that ended (failed or completed); a run cut short by a crash or a close does not count. */
  attempts_made: Generated<number>;
  max_attempts: Generated<number>;
  backoff_ms: Generated<number>;
  status: Generated<QueueJobStatus>;
  /** The lease of an active job; past it, the job goes back to waiting. */
  locked_until: Date | null;
  /** Fences every write of the current run: a consumer that lost its lease no longer matches. */
  lock_token: string | null;
  /** Times the job's lease ran out while active. */
  stalls: Generated<number>;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Date | null;
}
export type QueueJobRow = Selectable<QueueJobTable>;
export type NewQueueJobRow = Insertable<QueueJobTable>;
export type QueueJobRowUpdate = Updateable<QueueJobTable>;

export interface QueueTables {
  queue_jobs: QueueJobTable;
}
