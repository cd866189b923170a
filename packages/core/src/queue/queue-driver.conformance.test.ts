import { randomBytes } from 'node:crypto';
import { createDatabase, migrateToLatest, type OraDatabase } from '@ora/db';
import { createTestPostgres, createTestRedisPrefix, servicesAvailable, TEST_REDIS_URL } from '@ora/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BullMqDriver } from './bullmq.driver';
import { EmbeddedDriver } from './embedded.driver';
import type { QueueLogger } from './job-options';
import { type Consumer, type Job, type JobProcessor, NonRetryableJobError, type QueueDriver } from './queue-driver';

// One suite, every driver: the embedded driver on PGlite (always) and on real Postgres, BullMQ on
// real Redis (when they answer; with ORA_TEST_SERVICES=required a missing one fails the file).
// Leases and stall checks are short here so that recovery cases take about a second.

type TestDriver = QueueDriver & { simulateCrash(): Promise<void> };

interface Backend {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new driver on the same backend, as another process would open it. */
  open(): TestDriver;
  /** Bound for a dead consumer's job to come back on another consumer. */
  recoveryMs: number;
}

const logged: Array<{ level: string; msg: string | undefined; obj: unknown }> = [];
const log: QueueLogger = {
  warn: (obj, msg) => record('warn', obj, msg),
  error: (obj, msg) => record('error', obj, msg),
};
function record(level: string, obj: object | string, msg?: string) {
  logged.push({ level, msg, obj });
  if (process.env.ORA_TEST_QUEUE_LOG) console.warn(level, msg, obj);
}

function embeddedOn(
  name: string,
  openDatabase: () => Promise<{ db: OraDatabase; drop?: () => Promise<void> }>,
): Backend {
  let database: OraDatabase | undefined;
  let drop: (() => Promise<void>) | undefined;
  return {
    name,
    recoveryMs: 3000,
    async setup() {
      const opened = await openDatabase();
      database = opened.db;
      drop = opened.drop;
      await migrateToLatest(database.db);
    },
    async teardown() {
      await database?.close();
      await drop?.();
    },
    open() {
      if (!database) throw new Error('backend not set up');
      // The default 1 s safety poll: a job enqueued on the same driver must not wait for it.
      return new EmbeddedDriver({ db: database.db, log, leaseMs: 600, closeDeadlineMs: 200 });
    },
  };
}

function bullmqOnRedis(): Backend {
  const redis = createTestRedisPrefix('queue');
  return {
    name: 'bullmq on Redis',
    recoveryMs: 4000,
    async setup() {},
    async teardown() {
      await redis.clear();
    },
    open() {
      return new BullMqDriver({
        redisUrl: TEST_REDIS_URL,
        prefix: redis.prefix,
        log,
        lockDurationMs: 600,
        stalledIntervalMs: 300,
        closeDeadlineMs: 200,
      });
    },
  };
}

const backends: Backend[] = [
  embeddedOn('embedded on PGlite', async () => ({ db: await createDatabase({ kind: 'pglite' }) })),
];
if (await servicesAvailable()) {
  backends.push(
    embeddedOn('embedded on Postgres', async () => {
      const pg = await createTestPostgres('queue');
      return { db: await createDatabase({ kind: 'postgres', url: pg.url, poolSize: 8 }), drop: () => pg.drop() };
    }),
    bullmqOnRedis(),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition') {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise the test releases by hand (a job that runs until told to stop). */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe.each(backends)('queue driver conformance: $name', (backend) => {
  let cleanups: Array<() => Promise<void>> = [];
  const gates: Array<{ open(): void }> = [];

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  afterEach(async () => {
    for (const g of gates.splice(0)) g.open();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups = [];
  });

  const queueName = () => `q${randomBytes(5).toString('hex')}`;
  const open = () => {
    const driver = backend.open();
    cleanups.push(() => driver.close());
    return driver;
  };
  const held = () => {
    const g = gate();
    gates.push(g);
    return g;
  };
  const consume = (driver: QueueDriver, queue: string, processor: JobProcessor, concurrency = 1): Consumer => {
    const consumer = driver.consume(queue, processor, { concurrency });
    cleanups.push(() => consumer.close({ deadlineMs: 200 }));
    return consumer;
  };

  it('answers ping and names its kind', async () => {
    const driver = open();
    await driver.ping();
    expect(['embedded', 'bullmq']).toContain(driver.kind);
  });

  it('runs a job with its name, payload and id (any string, colons and digits included)', async () => {
    const driver = open();
    const queue = queueName();
    const seen: Job[] = [];
    await driver.enqueue(queue, 'greet', { to: 'ada', list: [1, 2], nested: { ok: true } }, { jobId: 'task:1:2' });
    await driver.enqueue(queue, 'digits', null, { jobId: '42' });
    await driver.enqueue(queue, 'anonymous', 'text');
    consume(driver, queue, async (job) => {
      seen.push(job);
    });
    await waitFor(() => seen.length === 3, 3000, 'three jobs');
    const byName = Object.fromEntries(seen.map((j) => [j.name, j]));
    expect(byName.greet).toEqual({
      id: 'task:1:2',
      queue,
      name: 'greet',
      payload: { to: 'ada', list: [1, 2], nested: { ok: true } },
      attempt: 1,
      maxAttempts: 1,
    });
    expect(byName.digits).toMatchObject({ id: '42', payload: null });
    expect(byName.anonymous?.payload).toBe('text');
    expect(byName.anonymous?.id).toMatch(/.{8,}/);
  });

  it('does not run a delayed job before delayMs, and runs it roughly on time', async () => {
    const driver = open();
    const queue = queueName();
    const startedAt = new Map<string, number>();
    consume(driver, queue, async (job) => {
      startedAt.set(job.name, Date.now());
    });
    await sleep(50);
    const t0 = Date.now();
    await driver.enqueue(queue, 'later', {}, { delayMs: 400 });
    await driver.enqueue(queue, 'now', {});
    expect((await driver.counts(queue)).delayed).toBe(1);
    await waitFor(() => startedAt.has('later'), 3000, 'the delayed job');
    const later = startedAt.get('later')! - t0;
    expect(later).toBeGreaterThanOrEqual(398);
    expect(later).toBeLessThan(400 + 500);
    // An idle consumer wakes for a job at once (no polling delay).
    expect(startedAt.get('now')! - t0).toBeLessThan(150);
  });

  it('runs higher priorities first and equal priorities in the order added', async () => {
    const driver = open();
    const queue = queueName();
    await driver.enqueue(queue, 'a', {}, { priority: 0 });
    await driver.enqueue(queue, 'b', {}, { priority: 5 });
    await driver.enqueueMany(queue, [
      { name: 'c', payload: {} },
      { name: 'd', payload: {}, options: { priority: 10 } },
      { name: 'e', payload: {}, options: { priority: 5 } },
    ]);
    await driver.enqueue(queue, 'f', {}, { priority: -3 });
    await driver.enqueue(queue, 'g', {});
    const order: string[] = [];
    consume(driver, queue, async (job) => {
      order.push(job.name);
    });
    await waitFor(() => order.length === 7, 3000, 'seven jobs');
    expect(order).toEqual(['d', 'b', 'e', 'a', 'c', 'g', 'f']);
  });

  it('retries with exponential backoff, then succeeds, numbering the attempts', async () => {
    const driver = open();
    const queue = queueName();
    const runs: Array<{ attempt: number; maxAttempts: number; at: number }> = [];
    consume(driver, queue, async (job) => {
      runs.push({ attempt: job.attempt, maxAttempts: job.maxAttempts, at: Date.now() });
      if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
    });
    await driver.enqueue(queue, 'flaky', {}, { attempts: 3, backoffMs: 150 });
    await waitFor(() => runs.length === 3, 3000, 'three tries');
    await waitFor(async () => (await driver.counts(queue)).completed === 1, 2000, 'completion');
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(runs.every((r) => r.maxAttempts === 3)).toBe(true);
    const first = runs[1]!.at - runs[0]!.at;
    const second = runs[2]!.at - runs[1]!.at;
    // base * 2^(n-1), drawn between 80 % and 100 % of it.
    expect(first).toBeGreaterThanOrEqual(150 * 0.8 - 5);
    expect(first).toBeLessThan(150 + 400);
    expect(second).toBeGreaterThanOrEqual(300 * 0.8 - 5);
    expect(second).toBeLessThan(300 + 400);
    expect(await driver.counts(queue)).toMatchObject({ failed: 0, active: 0, waiting: 0, delayed: 0 });
  });

  it('fails a job for good after its last attempt', async () => {
    const driver = open();
    const queue = queueName();
    let runs = 0;
    consume(driver, queue, async () => {
      runs++;
      throw new Error('always');
    });
    await driver.enqueue(queue, 'doomed', {}, { attempts: 2, backoffMs: 50 });
    await waitFor(async () => (await driver.counts(queue)).failed === 1, 3000, 'the failure');
    await sleep(200);
    expect(runs).toBe(2);
    expect(await driver.counts(queue)).toMatchObject({ failed: 1, completed: 0, waiting: 0, delayed: 0, active: 0 });
  });

  it('fails at once on NonRetryableJobError, whatever attempts are left', async () => {
    const driver = open();
    const queue = queueName();
    let runs = 0;
    consume(driver, queue, async () => {
      runs++;
      throw new NonRetryableJobError('bad input');
    });
    await driver.enqueue(queue, 'hopeless', {}, { attempts: 5, backoffMs: 20 });
    await waitFor(async () => (await driver.counts(queue)).failed === 1, 3000, 'the failure');
    await sleep(250);
    expect(runs).toBe(1);
    expect(await driver.counts(queue)).toMatchObject({ failed: 1, waiting: 0, delayed: 0, active: 0 });
  });

  it('never runs more than its concurrency at once, and really runs that many in parallel', async () => {
    const driver = open();
    const queue = queueName();
    await driver.enqueueMany(
      queue,
      Array.from({ length: 9 }, (_, i) => ({ name: 'work', payload: { i } })),
    );
    let current = 0;
    let max = 0;
    let finished = 0;
    const t0 = Date.now();
    consume(
      driver,
      queue,
      async () => {
        current++;
        max = Math.max(max, current);
        await sleep(150);
        current--;
        finished++;
      },
      3,
    );
    await waitFor(() => finished === 9, 5000, 'nine jobs');
    const elapsed = Date.now() - t0;
    expect(max).toBe(3);
    // One at a time would take 1350 ms; three at a time about 450.
    expect(elapsed).toBeLessThan(1000);
  });

  it('runs a job once when its id is added twice while it waits', async () => {
    const driver = open();
    const queue = queueName();
    await driver.enqueue(queue, 'dup', { n: 1 }, { jobId: 'same' });
    await driver.enqueue(queue, 'dup', { n: 2 }, { jobId: 'same' });
    await driver.enqueueMany(queue, [
      { name: 'dup', payload: { n: 3 }, options: { jobId: 'same' } },
      { name: 'other', payload: { n: 4 }, options: { jobId: 'other' } },
      { name: 'other', payload: { n: 5 }, options: { jobId: 'other' } },
    ]);
    expect((await driver.counts(queue)).waiting).toBe(2);
    const seen: Job[] = [];
    consume(driver, queue, async (job) => {
      seen.push(job);
    });
    await waitFor(() => seen.length === 2, 3000, 'two jobs');
    await sleep(200);
    expect(seen.map((j) => [j.id, j.payload])).toEqual([
      ['same', { n: 1 }],
      ['other', { n: 4 }],
    ]);
  });

  it('ignores an id added again while its job runs, and takes it again once the job has finished', async () => {
    const driver = open();
    const queue = queueName();
    const first = held();
    const runs: unknown[] = [];
    consume(driver, queue, async (job) => {
      runs.push(job.payload);
      if (runs.length === 1) await first.promise;
    });
    await driver.enqueue(queue, 'once', { run: 1 }, { jobId: 'h' });
    await waitFor(() => runs.length === 1, 3000, 'the first run');
    await driver.enqueue(queue, 'once', { run: 2 }, { jobId: 'h' });
    expect(await driver.counts(queue)).toMatchObject({ waiting: 0, delayed: 0, active: 1 });
    first.open();
    await waitFor(async () => (await driver.counts(queue)).completed === 1, 3000, 'completion');
    await sleep(150);
    expect(runs).toEqual([{ run: 1 }]);
    await driver.enqueue(queue, 'once', { run: 3 }, { jobId: 'h' });
    await waitFor(() => runs.length === 2, 3000, 'the second run');
    expect(runs).toEqual([{ run: 1 }, { run: 3 }]);
  });

  it('keeps jobs across a restart: enqueued on one driver, run by a new one on the same backend', async () => {
    const queue = queueName();
    const before = backend.open();
    await before.enqueue(queue, 'persisted', { k: 1 }, { jobId: 'p1' });
    await before.enqueue(queue, 'persisted-later', { k: 2 }, { delayMs: 200 });
    await before.close();
    const after = open();
    const seen: Job[] = [];
    consume(after, queue, async (job) => {
      seen.push(job);
    });
    await waitFor(() => seen.length === 2, 3000, 'both jobs');
    expect(seen.map((j) => [j.name, j.payload]).sort()).toEqual([
      ['persisted', { k: 1 }],
      ['persisted-later', { k: 2 }],
    ]);
  });

  it('takes back a job left active by a consumer that died, after its lease or stall interval', async () => {
    const queue = queueName();
    const dying = backend.open();
    cleanups.push(() => dying.close());
    const stuck = held();
    const onDying: string[] = [];
    dying.consume(
      queue,
      async (job) => {
        onDying.push(job.id);
        await stuck.promise;
      },
      { concurrency: 2 },
    );
    await dying.enqueue(queue, 'fragile', { f: 1 }, { jobId: 'fragile-1' });
    await waitFor(() => onDying.length === 1, 3000, 'the first run');
    await dying.simulateCrash();

    const survivor = open();
    const seen: Job[] = [];
    const t0 = Date.now();
    consume(survivor, queue, async (job) => {
      seen.push(job);
    });
    await waitFor(() => seen.length === 1, backend.recoveryMs, 'the job to come back');
    const took = Date.now() - t0;
    expect(seen[0]).toMatchObject({ id: 'fragile-1', payload: { f: 1 }, attempt: 1 });
    // The dead consumer's run ending late changes nothing.
    stuck.open();
    await sleep(200);
    expect(await survivor.counts(queue)).toMatchObject({ completed: 1, active: 0, waiting: 0, failed: 0 });
    expect(seen).toHaveLength(1);
    expect(took).toBeGreaterThan(100);
  });

  it('keeps a job that runs longer than its lease or lock: no other consumer runs it meanwhile', async () => {
    const queue = queueName();
    const a = open();
    const b = open();
    const runs: string[] = [];
    const processor: (who: string) => JobProcessor = (who) => async () => {
      runs.push(who);
      await sleep(1500); // the lease or lock is 600 ms here, renewed while the job runs
    };
    consume(a, queue, processor('a'));
    await a.enqueue(queue, 'long', {});
    await waitFor(() => runs.length === 1, 3000, 'the start');
    consume(b, queue, processor('b'));
    await waitFor(async () => (await a.counts(queue)).completed === 1, 4000, 'completion');
    expect(runs).toEqual(['a']);
  });

  it('on close past its deadline, aborts running jobs and gives them at once to another consumer', async () => {
    const queue = queueName();
    const first = open();
    const stubborn = held();
    const signals = new Map<string, AbortSignal>();
    const consumer = consume(
      first,
      queue,
      async (job, signal) => {
        signals.set(job.name, signal);
        if (job.name === 'polite') {
          // Stops when told and returns: that must not complete the job.
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return;
        }
        await stubborn.promise; // ignores the signal
      },
      2,
    );
    await first.enqueue(queue, 'polite', {}, { jobId: 'polite-1' });
    await first.enqueue(queue, 'stubborn', {}, { jobId: 'stubborn-1' });
    await waitFor(() => signals.size === 2, 3000, 'both jobs to start');

    // Another consumer, idle (waiting for work) when the first one closes.
    const seen: Job[] = [];
    consume(
      first,
      queue,
      async (job) => {
        seen.push(job);
      },
      2,
    );
    await sleep(300);
    expect(seen).toHaveLength(0);

    const t0 = Date.now();
    await consumer.close({ deadlineMs: 300 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(signals.get('polite')?.aborted).toBe(true);
    expect(signals.get('stubborn')?.aborted).toBe(true);

    await waitFor(() => seen.length === 2, 3000, 'both jobs on the other consumer');
    // Given back at once, not found later by a lease or stall check or a poll.
    expect(Date.now() - t0).toBeLessThan(300 + 300);
    expect(seen.map((j) => [j.id, j.attempt]).sort()).toEqual([
      ['polite-1', 1],
      ['stubborn-1', 1],
    ]);
    stubborn.open();
    await sleep(150);
    expect(await first.counts(queue)).toMatchObject({ completed: 2, active: 0, waiting: 0, failed: 0 });
  });

  it('on close, waits for running jobs that finish before the deadline', async () => {
    const driver = open();
    const queue = queueName();
    let started = 0;
    let finished = 0;
    const consumer = consume(driver, queue, async () => {
      started++;
      await sleep(200);
      finished++;
    });
    await driver.enqueue(queue, 'short', {});
    await waitFor(() => started === 1, 3000, 'the start');
    const t0 = Date.now();
    await consumer.close({ deadlineMs: 5000 });
    expect(finished).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await driver.counts(queue)).toMatchObject({ completed: 1, active: 0, waiting: 0 });
  });

  it('counts waiting, delayed, active, failed and completed jobs', async () => {
    const driver = open();
    const queue = queueName();
    await driver.enqueue(queue, 'ok', {}, { priority: 3 });
    await driver.enqueue(queue, 'bad', {}, { priority: 2 });
    await driver.enqueue(queue, 'hold', {}, { priority: 1 });
    await driver.enqueue(queue, 'later', {}, { delayMs: 60_000 });
    expect(await driver.counts(queue)).toEqual({ waiting: 3, delayed: 1, active: 0, failed: 0, completed: 0 });
    const hold = held();
    let holding = false;
    consume(driver, queue, async (job) => {
      if (job.name === 'bad') throw new Error('nope');
      if (job.name === 'hold') {
        holding = true;
        await hold.promise;
      }
    });
    // Concurrency 1 in priority order: ok, then bad, then hold, which stays active.
    await waitFor(() => holding, 3000, 'the held job');
    expect(await driver.counts(queue)).toEqual({ waiting: 0, delayed: 1, active: 1, failed: 1, completed: 1 });
    hold.open();
    await waitFor(async () => (await driver.counts(queue)).completed === 2, 3000, 'the held job to finish');
    expect(await driver.counts(queue)).toEqual({ waiting: 0, delayed: 1, active: 0, failed: 1, completed: 2 });
  });
});
