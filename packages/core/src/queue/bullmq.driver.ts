import { randomUUID } from 'node:crypto';
import { type Job as BullJob, type JobsOptions, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import {
  assertQueueName,
  BACKOFF_JITTER,
  DEFAULT_BACKOFF_MS,
  DEFAULT_CLOSE_DEADLINE_MS,
  DEFAULT_KEEP_COMPLETED,
  DEFAULT_KEEP_FAILED,
  DEFAULT_MAX_STALLS,
  errorMessage,
  isNonRetryable,
  MAX_PRIORITY,
  normalizePriority,
  type QueueLogger,
  settledWithin,
} from './job-options';
import type {
  ConsumeOptions,
  Consumer,
  EnqueueOptions,
  Job,
  JobProcessor,
  QueueCounts,
  QueueDriver,
} from './queue-driver';

export interface BullMqDriverOptions {
  redisUrl: string;
  /** Extra ioredis options (TLS, ...), for every connection the driver opens. */
  redisOptions?: RedisOptions;
  /** ORA's Redis key prefix (`ORA_REDIS_PREFIX`, e.g. `ora:`); BullMQ's keys go under `<prefix>bull:<queue>:`. */
  prefix?: string;
  log: QueueLogger;
  /**
   * Lock of a running job, renewed every half of it. A consumer that dies leaves its jobs locked
   * this long; then another consumer's stalled check (every `stalledIntervalMs`) takes them back.
   * Default 30 s.
   */
  lockDurationMs?: number;
  /** How often consumers look for stalled jobs. Default 30 s. */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it fails ("job stalled more than allowable limit"). Default 1. */
  maxStalledCount?: number;
  /** Completed jobs kept per queue (0: removed at once). Default 1000. */
  keepCompleted?: number;
  /** Failed jobs kept per queue, with their error. Default 10 000. */
  keepFailed?: number;
  /** Deadline for consumers still open when the driver closes. Default 10 s. */
  closeDeadlineMs?: number;
  /** How long an enqueue or a count waits for Redis before it fails. Default 5 s. */
  producerTimeoutMs?: number;
}

interface Settings {
  redisUrl: string;
  redisOptions: RedisOptions;
  bullPrefix: string;
  log: QueueLogger;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

// BullMQ: 0 is "no priority" and runs before every prioritized job; 1 is the highest, 2^21-1 the
// lowest, FIFO within one value. Every job gets a priority so ours order them all.
const PRIORITY_ORIGIN = MAX_PRIORITY + 1;
const toBullPriority = (priority: number | undefined) => PRIORITY_ORIGIN - normalizePriority(priority);

/**
 * The queue of the distributed mode: BullMQ on Redis, set up per BullMQ's "going to production"
 * guide. One producer connection per driver that fails fast (no offline queue, a command
 * timeout), one connection per consumer with `maxRetriesPerRequest: null` (plus the blocking one
 * BullMQ duplicates from it), `error` events logged, finished jobs trimmed by count.
 *
 * Job ids: BullMQ refuses custom ids that are integers or contain ':' and, worse, keeps a finished
 * job's id until the job is trimmed, so adding that id again would be silently ignored. So every
 * BullMQ job gets a random UUID, and our `jobId` becomes BullMQ's deduplication id, which holds
 * exactly while the job is waiting, delayed or active and is released when it completes or fails
 * for good (the embedded driver follows the same rule). Processors see our id as `job.id`.
 */
export class BullMqDriver implements QueueDriver {
  readonly kind = 'bullmq' as const;
  readonly #settings: Settings;
  readonly #producer: Redis;
  readonly #queues = new Map<string, Queue>();
  readonly #consumers = new Set<BullMqConsumer>();
  readonly #keepCompleted: number;
  readonly #keepFailed: number;
  readonly #closeDeadlineMs: number;
  readonly #producerTimeoutMs: number;
  #closed = false;

  constructor(options: BullMqDriverOptions) {
    this.#settings = {
      redisUrl: options.redisUrl,
      redisOptions: options.redisOptions ?? {},
      bullPrefix: `${options.prefix ?? 'ora:'}bull`,
      log: options.log,
      lockDurationMs: options.lockDurationMs ?? 30_000,
      stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? DEFAULT_MAX_STALLS,
    };
    this.#keepCompleted = options.keepCompleted ?? DEFAULT_KEEP_COMPLETED;
    this.#keepFailed = options.keepFailed ?? DEFAULT_KEEP_FAILED;
    this.#closeDeadlineMs = options.closeDeadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS;
    this.#producerTimeoutMs = options.producerTimeoutMs ?? 5000;
    this.#producer = new Redis(options.redisUrl, {
      ...options.redisOptions,
      // An enqueue while Redis is away fails at once (the caller's outbox keeps the job) instead
      // of waiting in ioredis' offline queue for a reconnection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.#producerTimeoutMs,
      connectionName: 'ora:queue:producer',
    });
    this.#producer.on('error', throttledWarn(options.log, 'queue producer: Redis connection error'));
  }

  async enqueue(queue: string, name: string, payload: unknown, options?: EnqueueOptions): Promise<void> {
    await this.enqueueMany(queue, [{ name, payload, ...(options ? { options } : {}) }]);
  }

  async enqueueMany(
    queue: string,
    jobs: ReadonlyArray<{ name: string; payload: unknown; options?: EnqueueOptions }>,
  ): Promise<void> {
    this.#assertOpen();
    assertQueueName(queue);
    if (jobs.length === 0) return;
    await this.#ready();
    // addBulk is one MULTI: one round trip, and a repeated id in the batch is deduplicated in order.
    await this.#queue(queue).addBulk(
      jobs.map((job) => ({ name: job.name, data: job.payload ?? null, opts: this.#jobOptions(job.options ?? {}) })),
    );
  }

  consume(queue: string, processor: JobProcessor, options: ConsumeOptions): Consumer {
    this.#assertOpen();
    assertQueueName(queue);
    const concurrency = Math.max(1, Math.trunc(options.concurrency));
    const consumer = new BullMqConsumer(queue, processor, concurrency, this.#settings, (c) =>
      this.#consumers.delete(c),
    );
    this.#consumers.add(consumer);
    return consumer;
  }

  async counts(queue: string): Promise<QueueCounts> {
    assertQueueName(queue);
    await this.#ready();
    const c = await this.#queue(queue).getJobCounts(
      'wait',
      'paused',
      'prioritized',
      'waiting-children',
      'delayed',
      'active',
      'failed',
      'completed',
    );
    const n = (key: string) => c[key] ?? 0;
    return {
      // BullMQ keeps prioritized jobs apart from `wait`; here every job is prioritized.
      waiting: n('wait') + n('paused') + n('prioritized') + n('waiting-children'),
      delayed: n('delayed'),
      active: n('active'),
      failed: n('failed'),
      completed: n('completed'),
    };
  }

  async ping(): Promise<void> {
    await this.#ready();
    await this.#producer.ping();
  }

  async close(): Promise<void> {
    if (this.#closed && this.#producer.status === 'end') return;
    this.#closed = true;
    await Promise.all([...this.#consumers].map((c) => c.close({ deadlineMs: this.#closeDeadlineMs })));
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => undefined)));
    await closeRedis(this.#producer);
  }

  /**
   * Drops every connection at once without finishing or giving back running jobs, as a killed
   * process would: their locks run out and another consumer's stalled check takes them back.
   * For fault tests.
   */
  async simulateCrash(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#consumers].map((c) => c.crash()));
    this.#producer.disconnect();
  }

  #jobOptions(options: EnqueueOptions): JobsOptions {
    const attempts = Math.max(1, Math.trunc(options.attempts ?? 1));
    const opts: JobsOptions = {
      jobId: randomUUID(),
      priority: toBullPriority(options.priority),
      attempts,
      removeOnComplete: this.#keepCompleted > 0 ? { count: this.#keepCompleted } : true,
      removeOnFail: this.#keepFailed > 0 ? { count: this.#keepFailed } : true,
    };
    if (options.jobId !== undefined) opts.deduplication = { id: options.jobId };
    if (options.delayMs && options.delayMs > 0) opts.delay = Math.ceil(options.delayMs);
    if (attempts > 1) {
      opts.backoff = {
        type: 'exponential',
        delay: Math.max(0, Math.trunc(options.backoffMs ?? DEFAULT_BACKOFF_MS)),
        jitter: BACKOFF_JITTER,
      };
    }
    return opts;
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#producer, prefix: this.#settings.bullPrefix });
      queue.on('error', throttledWarn(this.#settings.log, 'queue producer error', { queue: name }));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Waits a bounded time for the producer connection; with no offline queue, commands need it up. */
  async #ready(): Promise<void> {
    const producer = this.#producer;
    if (producer.status === 'ready') return;
    if (producer.status === 'end') throw new Error('queue driver is closed');
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        producer.off('ready', onReady);
        reject(new Error(`Redis did not answer within ${this.#producerTimeoutMs} ms (status ${producer.status})`));
      }, this.#producerTimeoutMs);
      producer.once('ready', onReady);
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('queue driver is closed');
  }
}

interface Running {
  bullJob: BullJob;
  token: string | undefined;
  controller: AbortController;
  /** The processor returned or threw. */
  settled: boolean;
  /** Being given back to the queue: the outcome is dropped. */
  releasing: boolean;
  /** Resolves once the job was given back (or the consumer crashed): the wrapper then lets go. */
  letGo: () => void;
  gone: Promise<void>;
  /** The wrapper returned to BullMQ. */
  done: Promise<void>;
}

class BullMqConsumer implements Consumer {
  readonly #connection: Redis;
  readonly #worker: Worker;
  readonly #inFlight = new Map<string, Running>();
  #stopping = false;
  #crashed = false;
  #closing: Promise<void> | null = null;

  constructor(
    readonly queue: string,
    private readonly processor: JobProcessor,
    concurrency: number,
    private readonly settings: Settings,
    private readonly onGone: (consumer: BullMqConsumer) => void,
  ) {
    // Workers wait out a Redis outage (BullMQ requires maxRetriesPerRequest: null for them).
    this.#connection = new Redis(settings.redisUrl, {
      ...settings.redisOptions,
      maxRetriesPerRequest: null,
      connectionName: `ora:queue:worker:${queue}`,
    });
    this.#connection.on('error', throttledWarn(settings.log, 'queue worker: Redis connection error', { queue }));
    // Two parameters: BullMQ then makes no abort signal of its own; ours aborts on close.
    this.#worker = new Worker(queue, (job: BullJob, token?: string) => this.#process(job, token), {
      connection: this.#connection,
      prefix: settings.bullPrefix,
      concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      autorun: true,
    });
    this.#worker.on('stalled', (jobId) => {
      settings.log.warn({ queue, bullJobId: jobId }, 'a stalled job was taken back from a consumer that stopped');
    });
    this.#worker.on('error', (error) => {
      if (this.#crashed) return;
      settings.log.error({ err: error, queue }, 'queue worker error');
    });
  }

  close(options?: { deadlineMs?: number }): Promise<void> {
    this.#closing ??= this.#close(options?.deadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS);
    return this.#closing;
  }

  async crash(): Promise<void> {
    if (this.#crashed) return;
    this.#crashed = true;
    this.#stopping = true;
    // Forced: no waiting for jobs, lock renewal stops, the connections drop. Locks stay in Redis
    // until they expire, as after a kill.
    const closing = this.#worker.close(true).catch(() => undefined);
    this.#connection.disconnect();
    for (const running of this.#inFlight.values()) running.letGo();
    await closing;
    this.onGone(this);
  }

  async #close(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.#stopping = true;
    try {
      // Stop fetching now; a job fetched in the same instant is handed straight back by #process.
      await this.#worker.pause(true);
      const running = [...this.#inFlight.values()];
      const inTime = await settledWithin(Promise.all(running.map((r) => r.done)), deadline - Date.now());
      if (inTime) {
        // Nothing in flight: this only stops the fetch loop (bounded in case Redis is away).
        await settledWithin(this.#worker.close(), Math.max(1000, deadline - Date.now()));
      } else {
        const unfinished = [...this.#inFlight.values()].filter((r) => !r.settled);
        for (const r of unfinished) {
          r.releasing = true;
          r.controller.abort(new Error('queue consumer closing'));
        }
        await Promise.all(
          unfinished.map(async (r) => {
            try {
              // Back to the queue at once (ahead of its priority), not after a stall detection.
              await this.#giveBack(r.bullJob, r.token);
            } catch (error) {
              this.settings.log.warn(
                { err: error, queue: this.queue, jobId: r.bullJob.id },
                'could not give a job back to the queue; it comes back when its lock expires',
              );
            } finally {
              r.letGo();
            }
          }),
        );
        await this.#worker.close(true);
      }
    } finally {
      await closeRedis(this.#connection);
      this.onGone(this);
    }
  }

  async #giveBack(bullJob: BullJob, token: string | undefined): Promise<void> {
    await bullJob.moveToWait(token);
    // BullMQ 5 adds no marker when it moves a prioritized job back, so idle workers blocked on the
    // marker would only see it after their drain delay (5 s): add the marker as its add scripts do.
    const marker = this.#worker.keys.marker;
    if (marker) await this.#connection.zadd(marker, 0, '0');
  }

  async #process(bullJob: BullJob, token: string | undefined): Promise<void> {
    const bullId = bullJob.id ?? '';
    if (this.#stopping) {
      if (!this.#crashed) {
        await this.#giveBack(bullJob, token).catch((error) =>
          this.settings.log.warn(
            { err: error, queue: this.queue, bullJobId: bullId },
            'could not give a job back to the queue; it comes back when its lock expires',
          ),
        );
      }
      // Tells BullMQ the job was moved by hand: it writes nothing more for it.
      throw new WaitingError();
    }
    let letGo!: () => void;
    const gone = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const running: Running = {
      bullJob,
      token,
      controller: new AbortController(),
      settled: false,
      releasing: false,
      letGo,
      gone,
      done,
    };
    this.#inFlight.set(bullId, running);
    try {
      const job: Job = {
        id: bullJob.deduplicationId ?? bullId,
        queue: this.queue,
        name: bullJob.name,
        payload: bullJob.data,
        attempt: bullJob.attemptsMade + 1,
        maxAttempts: bullJob.opts.attempts ?? 1,
      };
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => this.processor(job, running.controller.signal))
          .then(
            () => ({ ok: true as const }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        gone.then(() => null),
      ]);
      running.settled = true;
      if (outcome === null || running.releasing || this.#crashed) {
        await gone;
        throw new WaitingError();
      }
      if (!outcome.ok) {
        if (isNonRetryable(outcome.error)) throw new UnrecoverableError(errorMessage(outcome.error));
        throw outcome.error instanceof Error ? outcome.error : new Error(errorMessage(outcome.error));
      }
    } finally {
      this.#inFlight.delete(bullId);
      finished();
    }
  }
}

/** QUIT lets pending replies arrive; with Redis away it would wait for a reconnection, so bound it. */
async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const quit = client.quit().catch(() => undefined);
  if (!(await settledWithin(quit, 1000))) client.disconnect();
}

/** ioredis repeats its error on every reconnection attempt; one line per message every 10 s is enough. */
function throttledWarn(log: QueueLogger, msg: string, bindings: Record<string, unknown> = {}) {
  let last = '';
  let lastAt = 0;
  return (error: unknown) => {
    const text = errorMessage(error);
    const now = Date.now();
    if (text === last && now - lastAt < 10_000) return;
    last = text;
    lastAt = now;
    log.warn({ ...bindings, err: error }, msg);
  };
}
