/**
 * `pnpm bench queue [--tasks 3000] [--warmup 3000] [--rounds 3] [--concurrency 50] [--paced 200]`
 *
 * No-op tasks created through the API (`POST /api/ora/tasks.create`, 50 requests in flight) and
 * completed by a worker process (concurrency 50), on real Postgres + Redis: tasks/s from the first
 * create to the last success, and create-to-success latency (the task row's completed_at minus
 * created_at). Beside it, in the same run, raw BullMQ: jobs added 50 at a time and completed by a
 * BullMQ Worker at concurrency 50, add-to-completed.
 */
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import pg from 'pg';
import {
  type BenchReport,
  type ChildServer,
  cpuSeconds,
  cpuSecondsOf,
  createBenchDatabase,
  createBenchRedisPrefix,
  type Figure,
  neutralEnv,
  progress,
  repoRoot,
  spawnUntilReady,
} from './lib';

export const description = 'tasks through the API and a worker on Postgres + Redis, against raw BullMQ';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Rounds of `--warmup` jobs that raw BullMQ runs before the measured rounds. */
const BULLMQ_WARMUP_ROUNDS = 5;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs `work(i)` for i in [0, n) with at most `inFlight` at once. */
async function pool(n: number, inFlight: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        await work(i);
      }
    }),
  );
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

/**
 * POSTs JSON on a keep-alive connection of `agent` and answers the status and parsed body. The
 * load generator shares the 2 cores with what it measures: node:http costs it a fraction of what
 * fetch (undici's WHATWG streams) does per request, for the same requests on the wire.
 */
function postJson(
  agent: http.Agent,
  url: string,
  headers: Record<string, string>,
  payload: string,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
          } catch (error) {
            reject(error);
          }
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

interface Measured {
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU time per task (job) of each process taking part, in ms. */
  cpuMs?: Record<string, number>;
}

/** CPU seconds used so far by each process taking part (`pids` by label, plus Postgres and Redis). */
function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const snapshot: Record<string, number> = { postgres: cpuSecondsOf('postgres'), redis: cpuSecondsOf('redis-server') };
  for (const [label, pid] of Object.entries(pids)) snapshot[label] = cpuSeconds(pid);
  return snapshot;
}

/** CPU ms per item of each process between two snapshots, with their sum as `total`. */
function cpuPer(before: Record<string, number>, after: Record<string, number>, count: number): Record<string, number> {
  const per: Record<string, number> = {};
  let total = 0;
  for (const [label, seconds] of Object.entries(after)) {
    // A process that ended in between (a Postgres backend of a closed connection) leaves the sum.
    per[label] = Math.max(0, ((seconds - (before[label] ?? 0)) * 1000) / count);
    total += per[label];
  }
  per.total = total;
  return per;
}

const formatCpu = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([label, ms]) => `${label} ${ms.toFixed(2)}`)
    .join(', ');

async function rawBullmq(
  prefix: string,
  count: number,
  concurrency: number,
  inFlight = concurrency,
): Promise<Measured> {
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const name = 'raw';
  const queue = new Queue(name, { connection, prefix: `${prefix}raw` });
  const latencies: number[] = [];
  let done = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const worker = new Worker(name, async () => {}, {
    connection,
    prefix: `${prefix}raw`,
    concurrency,
    removeOnComplete: { count: 1000 },
  });
  const added = new Map<string, number>();
  worker.on('completed', (job) => {
    const at = added.get(job.id as string);
    if (at !== undefined) latencies.push(performance.now() - at);
    added.delete(job.id as string);
    if (++done === count) resolveAll();
  });
  await worker.waitUntilReady();
  const cpuBefore = cpuSnapshot({ bench: process.pid });
  const started = performance.now();
  await pool(count, inFlight, async () => {
    const before = performance.now();
    const job = await queue.add('noop', {});
    added.set(job.id as string, before);
    if (inFlight === 1) await waitFor(() => !added.has(job.id as string) || latencies.length >= done);
  });
  await all;
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = cpuPer(cpuBefore, cpuSnapshot({ bench: process.pid }), count);
  await worker.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMs };
}

async function oraTasks(
  api: ChildServer,
  worker: ChildServer,
  key: string,
  databaseUrl: string,
  count: number,
  concurrency: number,
  label: string,
): Promise<Measured> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const pids = { api: api.pid, worker: worker.pid, bench: process.pid };
    const cpuBefore = cpuSnapshot(pids);
    const started = performance.now();
    const startedAt = new Date();
    if (concurrency > 1) {
      // Under load, autocannon sends the creates (as `pnpm bench api` does): its requests are
      // prepared once and its answers parsed only as far as the status, so the load generator,
      // which shares the 2 cores with what it measures, takes a fraction of node:http's CPU.
      const result = await autocannon({
        url: `${api.url}/api/ora/tasks.create`,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ taskType: 'bench.noop', title: label }),
        connections: concurrency,
        pipelining: 1,
        amount: count,
        timeout: 30,
      });
      if (result['2xx'] !== count) {
        throw new Error(
          `tasks.create: ${result['2xx']} of ${count} answered 2xx (${result.non2xx} other answers, ${result.errors} errors)`,
        );
      }
    } else {
      // One at a time (the latency run): each create waits for the previous task's success.
      for (let i = 0; i < count; i++) {
        const response = await postJson(
          agent,
          `${api.url}/api/ora/tasks.create`,
          { authorization: `Bearer ${key}` },
          JSON.stringify({ taskType: 'bench.noop', title: `${label} ${i}` }),
        );
        const body = response.body as { data?: { tasks: Array<{ id: string }> }; error?: { message: string } };
        if (response.status !== 200 || !body.data)
          throw new Error(`tasks.create answered ${response.status}: ${body.error?.message}`);
        const id = body.data.tasks[0]?.id as string;
        for (;;) {
          const { rows } = await client.query<{ status: string }>('select status from agent_tasks where id = $1', [id]);
          if (rows[0]?.status === 'success') break;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    }
    progress(
      `  ${label}: ${count} tasks created in ${((performance.now() - started) / 1000).toFixed(1)} s; waiting for them`,
    );
    // The count reads every task of the round: asked every 20 ms it cost Postgres about 0.05 ms of
    // CPU per task, taken from what it measures. The figures come from the rows' own timestamps, so
    // asking less often changes none of them.
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        `select count(*) as n from agent_tasks where status = 'success' and created_at >= $1`,
        [startedAt],
      );
      if (Number(rows[0]?.n) >= count) break;
      if (performance.now() - started > 300_000) throw new Error('tasks did not finish within 5 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    const cpuMs = cpuPer(cpuBefore, cpuSnapshot(pids), count);
    const { rows } = await client.query<{ first: Date; last: Date; latencies: number[] }>(
      `select min(created_at) as first, max(completed_at) as last,
              array_agg(extract(epoch from (completed_at - created_at)) * 1000 order by 1) as latencies
         from agent_tasks where created_at >= $1`,
      [startedAt],
    );
    const row = rows[0] as { first: Date; last: Date; latencies: number[] };
    const seconds = (row.last.getTime() - row.first.getTime()) / 1000;
    const latencies = row.latencies.map(Number).sort((a, b) => a - b);
    return { perSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMs };
  } finally {
    agent.destroy();
    await client.end();
  }
}

export async function run(args: string[]): Promise<BenchReport> {
  const { values } = parseArgs({
    args,
    options: {
      tasks: { type: 'string', default: '3000' },
      warmup: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '50' },
      paced: { type: 'string', default: '200' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const paced = Number(values.paced);
  const count = Number(values.tasks);
  const warmup = Number(values.warmup);
  const concurrency = Number(values.concurrency);
  const rounds = Math.max(1, Math.round(Number(values.rounds)));

  const database = await createBenchDatabase('queue');
  const redis = createBenchRedisPrefix('queue');
  const { generateSecret } = await import('@ora/core');
  const key = generateSecret();
  const env = {
    ...neutralEnv(),
    DATABASE_URL: database.url,
    REDIS_URL,
    ORA_REDIS_PREFIX: redis.prefix,
    ORA_BOOTSTRAP_KEY: key,
    LOG_LEVEL: 'warn',
    PORT: '0',
    ORA_WORKER_PORT: '0',
    ORA_RATE_LIMIT_PER_MINUTE: '1000000000',
    ORA_RATE_LIMIT_PER_DAY: '1000000000',
    ORA_RATE_LIMIT_GLOBAL_PER_MINUTE: '1000000000',
    ORA_TASK_HANDLERS: path.join(repoRoot, 'bench/fixtures/noop-handlers.ts'),
    ORA_WORKER_CONCURRENCY: String(concurrency),
  };
  const children: ChildServer[] = [];
  try {
    progress('starting the API (no worker in it) and one worker process');
    const api = await spawnUntilReady({
      label: 'api',
      args: ['--import', 'tsx', 'apps/api/src/cli.ts', 'start'],
      env: { ...env, ORA_RUN_WORKER: 'false' },
      readyLine: /ORA is ready at (http:\/\/\S+)/,
      readyPath: '/readyz',
    });
    children.push(api);
    const worker = await spawnUntilReady({
      label: 'worker',
      args: ['--import', 'tsx', 'apps/worker/src/main.ts'],
      env,
      readyLine: /metrics on (http:\/\/\S+)/,
    });
    children.push(worker);

    // BullMQ in this process keeps speeding up for about 15,000 jobs (rounds of 3000 alone ran at
    // 3.8k, 5.2k, 8.5k, 8.3k, 10.1k, then 10.1k jobs/s): with a shorter warm-up the measured rounds
    // compared a half-warm BullMQ. ORA's processes level off within one round.
    for (let i = 1; i <= BULLMQ_WARMUP_ROUNDS; i++) {
      const warm = await rawBullmq(redis.prefix, warmup, concurrency);
      progress(`warm-up ${i}/${BULLMQ_WARMUP_ROUNDS}: raw BullMQ ${warm.perSecond.toFixed(0)} jobs/s`);
    }
    progress(`warm-up: ${warmup} ORA tasks`);
    await oraTasks(api, worker, key, database.url, warmup, concurrency, 'warm-up');
    // Alternating rounds, so that a burst of other work on the machine falls on both sides; the
    // figure is the round with the median ratio (either side alone swings by a third between runs).
    const measured: Array<{ raw: Measured; ours: Measured }> = [];
    for (let round = 1; round <= rounds; round++) {
      const raw = await rawBullmq(redis.prefix, count, concurrency);
      const ours = await oraTasks(api, worker, key, database.url, count, concurrency, `round ${round}/${rounds}`);
      measured.push({ raw, ours });
      progress(
        `round ${round}/${rounds}: raw BullMQ ${raw.perSecond.toFixed(0)} jobs/s, ORA ${ours.perSecond.toFixed(0)} tasks/s (${((100 * ours.perSecond) / raw.perSecond).toFixed(0)}%)`,
      );
      progress(`  CPU ms per task: ORA ${formatCpu(ours.cpuMs ?? {})}; BullMQ ${formatCpu(raw.cpuMs ?? {})}`);
    }
    const byRatio = [...measured].sort(
      (a, b) => a.ours.perSecond / a.raw.perSecond - b.ours.perSecond / b.raw.perSecond,
    );
    const { raw, ours } = byRatio[Math.floor((byRatio.length - 1) / 2)] as { raw: Measured; ours: Measured };
    const rawPaced = await rawBullmq(redis.prefix, paced, concurrency, 1);
    const oursPaced = await oraTasks(api, worker, key, database.url, paced, 1, 'one at a time');
    progress(`one at a time p50: raw BullMQ ${rawPaced.p50.toFixed(1)} ms, ORA ${oursPaced.p50.toFixed(1)} ms`);

    const figures: Figure[] = [
      {
        name: `tasks/s, create -> success (concurrency ${concurrency})`,
        unit: 'req/s',
        ours: ours.perSecond,
        baseline: raw.perSecond,
        higherIsBetter: true,
        target: { on: 'ratio', atLeast: 0.15 },
      },
      {
        name: 'create -> success p50, one at a time',
        unit: 'ms',
        ours: oursPaced.p50,
        baseline: rawPaced.p50,
        higherIsBetter: false,
        target: { on: 'ours', atMost: 10 },
      },
      {
        name: 'create -> success p99, one at a time',
        unit: 'ms',
        ours: oursPaced.p99,
        baseline: rawPaced.p99,
        higherIsBetter: false,
      },
      {
        name: `create -> success p50 under load (${concurrency} in flight)`,
        unit: 'ms',
        ours: ours.p50,
        baseline: raw.p50,
        higherIsBetter: false,
      },
      {
        name: `create -> success p99 under load (${concurrency} in flight)`,
        unit: 'ms',
        ours: ours.p99,
        baseline: raw.p99,
        higherIsBetter: false,
      },
    ];
    return {
      summary:
        'No-op tasks created through the API and completed by a worker process, on real Postgres + Redis, beside raw BullMQ add -> completed in the same run. "req/s" here reads as tasks (or jobs) per second.',
      settings: [
        `${rounds} alternating rounds of ${count} raw BullMQ jobs then ${count} ORA tasks, after ${BULLMQ_WARMUP_ROUNDS} × ${warmup} raw BullMQ jobs and ${warmup} ORA tasks as warm-up; the figures are the round with the median ratio; ${concurrency} creates in flight; worker concurrency ${concurrency}`,
        'ORA: one API process (ORA_RUN_WORKER=false) and one worker process, LOG_LEVEL=warn; every task is a durable Postgres row with its event log, outbox and domain events',
        `ORA's requests: autocannon on ${concurrency} keep-alive connections, as in \`pnpm bench api\` (the load generator shares the machine: node:http cost it about 0.13 ms of CPU per request, autocannon 0.09); one at a time: node:http`,
        `raw BullMQ: Queue.add with ${concurrency} in flight, a Worker at concurrency ${concurrency} in the bench process, no-op processor`,
        `latency one at a time: ${paced} tasks (jobs), each created after the previous succeeded; under load: the throughput run's own`,
        'latency: ORA from the task row (completed_at - created_at); BullMQ from before add() to the completed event',
        `every round, in order: ${measured.map((m) => `ORA ${m.ours.perSecond.toFixed(0)} / BullMQ ${m.raw.perSecond.toFixed(0)} = ${((100 * m.ours.perSecond) / m.raw.perSecond).toFixed(0)}%`).join('; ')}`,
        `CPU ms per task (job) in the median round, user + system from /proc, by process: ORA ${formatCpu(ours.cpuMs ?? {})}; raw BullMQ ${formatCpu(raw.cpuMs ?? {})}`,
      ],
      figures,
    };
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    await redis.clear().catch(() => undefined);
    await database.drop().catch(() => undefined);
  }
}
