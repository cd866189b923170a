import { randomUUID } from 'node:crypto';
import type { Database } from '@ora/db';
import { type Kysely, sql } from 'kysely';
import {
  assertQueueName,
  backoffDelayMs,
  DEFAULT_BACKOFF_MS,
  DEFAULT_CLOSE_DEADLINE_MS,
  DEFAULT_KEEP_COMPLETED,
  DEFAULT_KEEP_FAILED,
  DEFAULT_MAX_STALLS,
  errorMessage,
  isNonRetryable,
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

export interface EmbeddedDriverOptions {
  /** PGlite or Postgres, migrated (the `queue_jobs` table). The driver never closes it. */
  db: Kysely<Database>;
  log: QueueLogger;
  /** Lease of a running job, renewed every third of it; a dead consumer's jobs come back after it. Default 30 s. */
  leaseMs?: number;
  /** Safety poll for jobs added by other processes and for leases that ran out. Default 1 s. */
  pollIntervalMs?: number;
  /** Lease expiries a job survives before it fails ("stalled more than allowable limit"). Default 1. */
  maxStalls?: number;
  /** Completed jobs kept per queue (0: deleted at once). Default 1000. */
  keepCompleted?: number;
  /** Failed jobs kept per queue, with their error. Default 10 000. */
  keepFailed?: number;
  /** Deadline for consumers still open when the driver closes. Default 10 s. */
  closeDeadlineMs?: number;
}

interface Settings {
  db: Kysely<Database>;
  log: QueueLogger;
  leaseMs: number;
  pollIntervalMs: number;
  maxStalls: number;
  keepCompleted: number;
  keepFailed: number;
}

/**
 * The queue of the default single-process mode, durable in the database it is given.
 *
 * Claims take due jobs (highest priority, then due time, then order of adding) with
 * `for update skip locked`, several at once up to the consumer's free slots; completions of many
 * jobs go out in one statement. A consumer wakes at once for jobs enqueued on the same driver,
 * on a timer for its next delayed job, and on a slow poll for jobs added by other processes.
 *
 * A job id deduplicates while its job is waiting or active. Once the job completed or failed, the
 * same id may be added again and replaces the finished job (BullMQ driver: same rule), so a task
 * can be dispatched again after its job ended.
 */
export class EmbeddedDriver implements QueueDriver {
  readonly kind = 'embedded' as const;
  readonly #settings: Settings;
  readonly #closeDeadlineMs: number;
  readonly #consumers = new Set<EmbeddedConsumer>();
  #closed = false;

  constructor(options: EmbeddedDriverOptions) {
    this.#settings = {
      db: options.db,
      log: options.log,
      leaseMs: options.leaseMs ?? 30_000,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      maxStalls: options.maxStalls ?? DEFAULT_MAX_STALLS,
      keepCompleted: options.keepCompleted ?? DEFAULT_KEEP_COMPLETED,
      keepFailed: options.keepFailed ?? DEFAULT_KEEP_FAILED,
    };
    this.#closeDeadlineMs = options.closeDeadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS;
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
    // `on conflict do update` may not touch one row twice in a statement, and a repeated id in one
    // batch is a duplicate anyway: the first one wins.
    const seen = new Set<string>();
    const rows = [];
    for (const job of jobs) {
      const id = job.options?.jobId ?? randomUUID();
      if (seen.has(id)) continue;
      seen.add(id);
      const options = job.options ?? {};
      rows.push(sql`(
        ${queue}, ${id}, ${job.name}, ${JSON.stringify(job.payload ?? null)}::jsonb,
        ${normalizePriority(options.priority)},
        now() + ${Math.max(0, options.delayMs ?? 0)}::double precision * interval '1 millisecond',
        ${Math.max(1, Math.trunc(options.attempts ?? 1))},
        ${Math.max(0, Math.trunc(options.backoffMs ?? DEFAULT_BACKOFF_MS))}
      )`);
    }
    await sql`
      insert into queue_jobs (queue, id, name, payload, priority, run_at, max_attempts, backoff_ms)
      values ${sql.join(rows)}
      on conflict (queue, id) do update set
        name = excluded.name, payload = excluded.payload, priority = excluded.priority,
        run_at = excluded.run_at, max_attempts = excluded.max_attempts, backoff_ms = excluded.backoff_ms,
        seq = excluded.seq, status = 'waiting', attempts_made = 0, stalls = 0, last_error = null,
        locked_until = null, lock_token = null, finished_at = null, created_at = now(), updated_at = now()
      where queue_jobs.status in ('completed', 'failed')
    `.execute(this.#settings.db);
    this.#wake(queue);
  }

  /** Jobs were added or given back: consumers of this driver take them now, not at their next poll. */
  #wake(queue: string): void {
    for (const consumer of this.#consumers) if (consumer.queue === queue) consumer.wake();
  }

  consume(queue: string, processor: JobProcessor, options: ConsumeOptions): Consumer {
    this.#assertOpen();
    assertQueueName(queue);
    const concurrency = Math.max(1, Math.trunc(options.concurrency));
    const consumer = new EmbeddedConsumer(queue, processor, concurrency, this.#settings, {
      gone: (c) => this.#consumers.delete(c),
      released: () => this.#wake(queue),
    });
    this.#consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const { rows } = await sql<Record<keyof QueueCounts, string>>`
      select
        count(*) filter (where status = 'waiting' and run_at <= now()) as waiting,
        count(*) filter (where status = 'waiting' and run_at > now()) as delayed,
        count(*) filter (where status = 'active') as active,
        count(*) filter (where status = 'failed') as failed,
        count(*) filter (where status = 'completed') as completed
      from queue_jobs where queue = ${queue}
    `.execute(this.#settings.db);
    const row = rows[0];
    return {
      waiting: Number(row?.waiting ?? 0),
      delayed: Number(row?.delayed ?? 0),
      active: Number(row?.active ?? 0),
      failed: Number(row?.failed ?? 0),
      completed: Number(row?.completed ?? 0),
    };
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#settings.db);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#consumers].map((c) => c.close({ deadlineMs: this.#closeDeadlineMs })));
  }

  /**
   * Stops every consumer at once without finishing or giving back its jobs, as a killed process
   * would: their leases run out and another consumer takes them. For fault tests.
   */
  async simulateCrash(): Promise<void> {
    this.#closed = true;
    for (const consumer of [...this.#consumers]) consumer.crash();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('queue driver is closed');
  }
}

/** A claimed job, as `json_agg` hands it back (timestamps and bigints as JSON). */
interface ClaimedRow {
  id: string;
  name: string;
  payload: unknown;
  attempts_made: number;
  max_attempts: number;
  backoff_ms: number;
  lock_token: string;
}

interface Running {
  token: string;
  row: ClaimedRow;
  controller: AbortController;
  /** The processor returned or threw. */
  settled: boolean;
  /** Given back to the queue on close: the outcome is dropped. */
  released: boolean;
  /** Processor settled and outcome written. */
  done: Promise<void>;
}

interface PendingCompletion {
  token: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const TRIM_EVERY_POLLS = 10;
const MAX_BATCH = 500;

class EmbeddedConsumer implements Consumer {
  readonly #inFlight = new Map<string, Running>();
  #stopped = false;
  #crashed = false;
  #pump: Promise<void> | null = null;
  #pumpAgain = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #polls = 0;
  #completions: PendingCompletion[] = [];
  #flushing: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  /** Closed or crashed: no timer runs any more. */
  #gone = false;

  constructor(
    readonly queue: string,
    private readonly processor: JobProcessor,
    private readonly concurrency: number,
    private readonly settings: Settings,
    private readonly events: { gone(consumer: EmbeddedConsumer): void; released(): void },
  ) {}

  start(): void {
    // The first poll runs at once: jobs a crashed process left behind come back on start.
    this.#schedulePoll(0);
    this.#scheduleRenew();
    this.wake();
  }

  /** Claims due jobs up to the free slots; a wake during a claim runs another round after it. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#pump) {
      this.#pumpAgain = true;
      return;
    }
    this.#pump = this.#fillRounds().finally(() => {
      this.#pump = null;
      if (this.#pumpAgain) this.wake();
    });
  }

  close(options?: { deadlineMs?: number }): Promise<void> {
    this.#closing ??= this.#close(options?.deadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS);
    return this.#closing;
  }

  crash(): void {
    this.#crashed = true;
    this.#stopped = true;
    this.#gone = true;
    clearTimeout(this.#wakeTimer);
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#renewTimer);
    this.events.gone(this);
  }

  async #close(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.#stopped = true;
    clearTimeout(this.#wakeTimer);
    clearTimeout(this.#pollTimer);
    if (this.#pump) await settledWithin(this.#pump, deadline - Date.now());
    const running = [...this.#inFlight.values()];
    const inTime = await settledWithin(Promise.all(running.map((r) => r.done)), deadline - Date.now());
    if (!inTime) {
      const unfinished = [...this.#inFlight.values()].filter((r) => !r.settled);
      for (const r of unfinished) {
        r.released = true;
        r.controller.abort(new Error('queue consumer closing'));
        this.#inFlight.delete(r.token);
      }
      if (unfinished.length > 0) {
        try {
          await sql`
            update queue_jobs set status = 'waiting', locked_until = null, lock_token = null, updated_at = now()
            where queue = ${this.queue} and status = 'active'
              and lock_token in (${sql.join(unfinished.map((r) => r.token))})
          `.execute(this.settings.db);
          this.events.released();
        } catch (error) {
          this.settings.log.error(
            { err: error, queue: this.queue, jobs: unfinished.map((r) => r.row.id) },
            'could not give unfinished jobs back to the queue; they come back when their lease runs out',
          );
        }
      }
      // Jobs whose processor has settled are writing their outcome: one statement each.
      await Promise.all([...this.#inFlight.values()].map((r) => r.done));
    }
    this.#gone = true;
    clearTimeout(this.#renewTimer);
    this.events.gone(this);
  }

  async #fillRounds(): Promise<void> {
    try {
      do {
        this.#pumpAgain = false;
        await this.#fill();
      } while (this.#pumpAgain && !this.#stopped);
    } catch (error) {
      this.settings.log.error({ err: error, queue: this.queue }, 'queue claim failed; retrying on the next poll');
    }
  }

  async #fill(): Promise<void> {
    while (!this.#stopped) {
      const free = this.concurrency - this.#inFlight.size;
      if (free <= 0) return;
      const { jobs, nextDueMs } = await this.#claim(free);
      if (this.#crashed) return;
      for (const row of jobs) this.#start(row);
      if (jobs.length < free) {
        this.#armDueTimer(nextDueMs);
        return;
      }
    }
  }

  /**
   * Claims up to `limit` due jobs, in order, and tells how long until the next waiting job is due,
   * in one round trip. Both read one snapshot with one `now()`: a waiting job is either claimable
   * now or counted in the due time, so none falls between the claim and the timer.
   */
  async #claim(limit: number): Promise<{ jobs: ClaimedRow[]; nextDueMs: number | null }> {
    const { rows } = await sql<{ jobs: ClaimedRow[] | null; next_due_ms: number | null }>`
      with next as (
        select queue, id from queue_jobs
        where queue = ${this.queue} and status = 'waiting' and run_at <= now()
        order by priority desc, run_at, seq
        limit ${limit}
        for update skip locked
      ), claimed as (
        update queue_jobs j set
          status = 'active', lock_token = gen_random_uuid(), updated_at = now(),
          locked_until = now() + ${this.settings.leaseMs}::double precision * interval '1 millisecond'
        from next where j.queue = next.queue and j.id = next.id
        returning j.id, j.name, j.payload, j.priority, j.run_at, j.seq, j.attempts_made, j.max_attempts,
          j.backoff_ms, j.lock_token
      )
      select
        (select json_agg(c order by c.priority desc, c.run_at, c.seq) from claimed c) as jobs,
        (select (extract(epoch from min(run_at) - now()) * 1000)::float8 from queue_jobs
          where queue = ${this.queue} and status = 'waiting' and run_at > now()) as next_due_ms
    `.execute(this.settings.db);
    return { jobs: rows[0]?.jobs ?? [], nextDueMs: rows[0]?.next_due_ms ?? null };
  }

  /** A timer for the next delayed job when it is due before the next poll. */
  #armDueTimer(ms: number | null): void {
    clearTimeout(this.#wakeTimer);
    if (ms == null || this.#stopped || ms >= this.settings.pollIntervalMs) return;
    this.#wakeTimer = setTimeout(() => this.wake(), Math.max(1, Math.ceil(ms)));
  }

  #start(row: ClaimedRow): void {
    const job: Job = {
      id: row.id,
      queue: this.queue,
      name: row.name,
      payload: row.payload,
      attempt: row.attempts_made + 1,
      maxAttempts: row.max_attempts,
    };
    const running: Running = {
      token: row.lock_token,
      row,
      controller: new AbortController(),
      settled: false,
      released: false,
      done: Promise.resolve(),
    };
    this.#inFlight.set(running.token, running);
    running.done = this.#run(running, job)
      .catch((error) => {
        // The job stays active; its lease runs out and it comes back.
        this.settings.log.error({ err: error, queue: this.queue, jobId: job.id }, 'could not record a job outcome');
      })
      .finally(() => {
        if (this.#inFlight.get(running.token) === running) this.#inFlight.delete(running.token);
        this.wake();
      });
  }

  async #run(running: Running, job: Job): Promise<void> {
    let failure: unknown;
    let ok = false;
    try {
      await this.processor(job, running.controller.signal);
      ok = true;
    } catch (error) {
      failure = error;
    }
    running.settled = true;
    if (running.released || this.#crashed) return;
    if (ok) await this.#complete(running.token);
    else await this.#fail(running, failure);
  }

  #complete(token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#completions.push({ token, resolve, reject });
      this.#flush();
    });
  }

  /** One statement for every completion that arrived while the previous one ran. */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = (async () => {
      while (this.#completions.length > 0) {
        const batch = this.#completions.splice(0, MAX_BATCH);
        const tokens = sql.join(batch.map((c) => c.token));
        try {
          if (this.settings.keepCompleted > 0) {
            await sql`
              update queue_jobs set status = 'completed', attempts_made = attempts_made + 1, finished_at = now(),
                locked_until = null, lock_token = null, updated_at = now()
              where queue = ${this.queue} and status = 'active' and lock_token in (${tokens})
            `.execute(this.settings.db);
          } else {
            await sql`
              delete from queue_jobs where queue = ${this.queue} and status = 'active' and lock_token in (${tokens})
            `.execute(this.settings.db);
          }
          for (const c of batch) c.resolve();
        } catch (error) {
          for (const c of batch) c.reject(error);
        }
      }
    })().finally(() => {
      this.#flushing = null;
      if (this.#completions.length > 0) this.#flush();
    });
  }

  async #fail(running: Running, error: unknown): Promise<void> {
    const { row, token } = running;
    const attemptsMade = row.attempts_made + 1;
    const message = errorMessage(error).slice(0, 4000);
    if (isNonRetryable(error) || attemptsMade >= row.max_attempts) {
      await sql`
        update queue_jobs set status = 'failed', attempts_made = ${attemptsMade}, last_error = ${message},
          finished_at = now(), locked_until = null, lock_token = null, updated_at = now()
        where queue = ${this.queue} and status = 'active' and lock_token = ${token}
      `.execute(this.settings.db);
      return;
    }
    const delay = backoffDelayMs(row.backoff_ms, attemptsMade);
    await sql`
      update queue_jobs set status = 'waiting', attempts_made = ${attemptsMade}, last_error = ${message},
        run_at = now() + ${delay}::double precision * interval '1 millisecond',
        locked_until = null, lock_token = null, updated_at = now()
      where queue = ${this.queue} and status = 'active' and lock_token = ${token}
    `.execute(this.settings.db);
  }

  #schedulePoll(delayMs = this.settings.pollIntervalMs): void {
    this.#pollTimer = setTimeout(async () => {
      try {
        await this.#recoverExpiredLeases();
        if (++this.#polls % TRIM_EVERY_POLLS === 0) await this.#trim();
      } catch (error) {
        this.settings.log.warn({ err: error, queue: this.queue }, 'queue maintenance failed');
      }
      this.wake();
      if (!this.#stopped) this.#schedulePoll();
    }, delayMs);
  }

  /** Jobs left active by a consumer that died go back to waiting (or fail past `maxStalls`). */
  async #recoverExpiredLeases(): Promise<void> {
    const { rows } = await sql<{ id: string; status: string }>`
      update queue_jobs set
        stalls = stalls + 1,
        status = case when stalls + 1 > ${this.settings.maxStalls} then 'failed' else 'waiting' end,
        last_error = case when stalls + 1 > ${this.settings.maxStalls}
          then 'job stalled more than allowable limit' else last_error end,
        finished_at = case when stalls + 1 > ${this.settings.maxStalls} then now() end,
        locked_until = null, lock_token = null, updated_at = now()
      where queue = ${this.queue} and status = 'active' and locked_until < now()
      returning id, status
    `.execute(this.settings.db);
    if (rows.length > 0) {
      this.settings.log.warn(
        { queue: this.queue, jobs: rows.map((r) => ({ id: r.id, status: r.status })) },
        'jobs whose lease ran out were taken back from a consumer that stopped',
      );
    }
  }

  async #trim(): Promise<void> {
    for (const [status, keep] of [
      ['completed', this.settings.keepCompleted],
      ['failed', this.settings.keepFailed],
    ] as const) {
      await sql`
        delete from queue_jobs where queue = ${this.queue} and status = ${status} and id in (
          select id from queue_jobs where queue = ${this.queue} and status = ${status}
          order by finished_at desc offset ${keep}
        )
      `.execute(this.settings.db);
    }
  }

  #scheduleRenew(): void {
    this.#renewTimer = setTimeout(
      async () => {
        const tokens = [...this.#inFlight.values()].filter((r) => !r.settled).map((r) => r.token);
        if (tokens.length > 0) {
          try {
            const result = await sql`
              update queue_jobs set locked_until = now() + ${this.settings.leaseMs}::double precision * interval '1 millisecond'
              where queue = ${this.queue} and status = 'active' and lock_token in (${sql.join(tokens)})
            `.execute(this.settings.db);
            const renewed = Number(result.numAffectedRows ?? tokens.length);
            if (renewed < tokens.length) {
              this.settings.log.warn(
                { queue: this.queue, lost: tokens.length - renewed },
                'some running jobs lost their lease; another consumer may run them again',
              );
            }
          } catch (error) {
            this.settings.log.warn({ err: error, queue: this.queue }, 'could not renew job leases');
          }
        }
        if (!this.#gone) this.#scheduleRenew();
      },
      Math.max(10, Math.floor(this.settings.leaseMs / 3)),
    );
  }
}
