/**
 * The one small interface ORA's queues sit behind: BullMQ on Redis (distributed) or the embedded
 * driver (default mode). A queue carries ids and small payloads only; Postgres holds the state,
 * so every job handler must be idempotent (a job may run twice after a crash).
 */

export interface EnqueueOptions {
  /** Deduplicates: while a job with this id is waiting, delayed or active, adding it again is a no-op. */
  jobId?: string;
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  /** Higher runs first; equal priorities run in the order added. Default 0. */
  priority?: number;
  /** Total tries, the first included. Default 1 (no retry). */
  attempts?: number;
  /** Base of the exponential backoff between tries: try n+1 waits about base * 2^(n-1), with jitter. */
  backoffMs?: number;
}

export interface Job<P = unknown> {
  id: string;
  queue: string;
  name: string;
  payload: P;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
}

/** Thrown by a processor for a failure that no retry can fix: the job fails at once. */
export class NonRetryableJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableJobError';
  }
}

/**
 * Handles one job. Resolving completes it; throwing fails this try (retried per the job's
 * attempts and backoff). The signal aborts when the consumer is closing past its deadline.
 */
export type JobProcessor = (job: Job, signal: AbortSignal) => Promise<void>;

export interface ConsumeOptions {
  /** Jobs handled at once by this consumer. */
  concurrency: number;
}

export interface Consumer {
  /**
   * Stops taking jobs and waits for the ones in flight; past `deadlineMs` their signals abort and
   * unfinished jobs go back to the queue for another consumer.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

export interface QueueCounts {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
  completed: number;
}

export interface QueueDriver {
  readonly kind: 'embedded' | 'bullmq';
  enqueue(queue: string, name: string, payload: unknown, options?: EnqueueOptions): Promise<void>;
  /** Many jobs in one round trip where the backend allows. */
  enqueueMany(
    queue: string,
    jobs: ReadonlyArray<{ name: string; payload: unknown; options?: EnqueueOptions }>,
  ): Promise<void>;
  consume(queue: string, processor: JobProcessor, options: ConsumeOptions): Consumer;
  counts(queue: string): Promise<QueueCounts>;
  /** One round trip to the backend, for readiness checks. */
  ping(): Promise<void>;
  /** Closes consumers and connections. */
  close(): Promise<void>;
}
