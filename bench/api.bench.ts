/**
 * `pnpm bench api [--duration 10] [--warmup 3] [--connections 50] [--rounds 5] [--only whoami,get,start]`
 *
 * (a) keys.whoami: an authenticated action that reads no table, against a bare Fastify JSON route;
 * (b) keys.get: an authenticated action doing one indexed read, against a bare Fastify route running
 *     the same query on the same kind of pool;
 * both on real Postgres + Redis (a database and key prefix of the bench's own, removed after), ORA
 * and its baseline each in a child process started the same way, load from autocannon here;
 * (c) the embedded start (`ora start` on a fresh data directory, then again on the same one):
 *     time until /readyz answers 200, and resident memory then.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pgliteTemplatePath } from '@ora/db';
import {
  type BenchReport,
  type ChildServer,
  createBenchDatabase,
  createBenchRedisPrefix,
  type Figure,
  formatValue,
  httpRequest,
  type LoadResult,
  measureLoad,
  neutralEnv,
  progress,
  residentMiB,
  runNode,
  spawnUntilReady,
} from './lib';

export const description = 'the action API against bare Fastify on Postgres + Redis, and the embedded start';

const TSX = ['--import', 'tsx'];
const CLI = 'apps/api/src/cli.ts';
const ORA_READY = /ORA is ready at (http:\/\/\S+)/;
const BASELINE_READY = /is ready at (http:\/\/\S+)/;

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  rounds: number;
  only: Set<string>;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '5' },
      only: { type: 'string', default: 'whoami,get,start' },
    },
  });
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0 (got "${value}")`);
    return n;
  };
  const only = new Set(values.only.split(',').map((s) => s.trim()));
  for (const part of only) {
    if (!['whoami', 'get', 'start'].includes(part)) throw new Error(`--only takes whoami, get, start (got "${part}")`);
  }
  return {
    durationS: positive('duration', values.duration),
    warmupS: positive('warmup', values.warmup),
    connections: Math.max(1, Math.round(positive('connections', values.connections))),
    rounds: Math.max(1, Math.round(positive('rounds', values.rounds))),
    only,
  };
}

interface BenchKey {
  id: string;
  secret: string;
}

interface Scenario {
  id: 'whoami' | 'get';
  label: string;
  path: string;
  baseline: 'json' | 'db';
  baselineLabel: string;
  body(key: BenchKey): string;
  /** Share of the baseline's requests/s ORA must reach. */
  target: number;
}

const scenarios: Scenario[] = [
  {
    id: 'whoami',
    label: 'keys.whoami (auth, no table)',
    path: '/api/ora/keys.whoami',
    baseline: 'json',
    baselineLabel: 'bare Fastify route answering {"ok":true}',
    body: () => '{}',
    target: 0.6,
  },
  {
    id: 'get',
    label: 'keys.get (auth, 1 indexed read)',
    path: '/api/ora/keys.get',
    baseline: 'db',
    baselineLabel: 'bare Fastify route running the same select by id on the same Kysely/pg pool',
    body: (key) => JSON.stringify({ id: key.id }),
    target: 0.7,
  },
];

export async function run(args: string[]): Promise<BenchReport> {
  const options = parseOptions(args);
  const figures: Figure[] = [];
  const notes: string[] = [];
  const settings = [
    `Load: autocannon in the bench process, ${options.connections} connections, no pipelining, ` +
      `${options.warmupS} s warm-up then ${options.durationS} s measured, ${options.rounds} alternating round(s) ` +
      '(baseline and ORA swap order each round); the best round of each is shown. On a shared virtual machine ' +
      'the capacity one process gets moves by up to half between rounds of the same server in steady state, ' +
      'so each side is taken at its least disturbed round.',
    'ORA: `node --import tsx apps/api/src/cli.ts start` with DATABASE_URL (a fresh `ora_bench_*` database), ' +
      'REDIS_URL (a fresh key prefix), LOG_LEVEL=warn, ORA_RATE_LIMIT_GLOBAL_PER_MINUTE=1000000000 and a key ' +
      'with 1e9 requests per minute and per day (never throttled; every request still runs the Redis limiter).',
    'Baselines: `node --import tsx bench/api.baseline.ts <json|db>`, bare Fastify 5 (the copy apps/api uses) ' +
      'with no logger (ORA logs at warn) and no plugins, same environment, sent the same requests.',
    ...scenarios
      .filter((s) => options.only.has(s.id))
      .map((s) => `${s.label}: \`POST ${s.path}\` with the bench key, against a ${s.baselineLabel}.`),
    'Server CPU per request: user + system time of the server process (all its threads, from /proc) over the ' +
      'measured run, divided by the answers; the lowest round. It moves much less than requests/s when other work ' +
      'shares the machine, but leaves out what Postgres and Redis spend.',
  ];

  const load = scenarios.filter((s) => options.only.has(s.id));
  if (load.length > 0) figures.push(...(await measureActions(load, options, notes)));
  if (options.only.has('start')) {
    settings.push(
      'Start: `node --import tsx apps/api/src/cli.ts start` with a fresh ORA_DATA_DIR (PGlite), PORT=0, ' +
        'LOG_LEVEL=warn; time from spawn until GET /readyz answers 200, then VmRSS of that node process; stopped ' +
        'with SIGTERM; then a second start on the same directory. The fresh directory is unpacked from the initdb ' +
        `template \`pnpm install\` made (${existsSync(pgliteTemplatePath()) ? 'present' : 'MISSING: initdb runs'}). ` +
        'Baseline: the bare Fastify baseline spawned the same way.',
    );
    figures.push(...(await measureStart(notes)));
  }
  return {
    summary:
      'The action API (authentication from the key cache, rate limits counted in process and added to Redis in batches, JSON in and out) ' +
      'against bare Fastify routes, on Postgres + Redis; and how long the embedded `ora start` takes and how much ' +
      'memory it holds.',
    settings,
    figures,
    notes,
    partial: options.only.size < 3,
  };
}

async function measureActions(list: Scenario[], options: Options, notes: string[]): Promise<Figure[]> {
  progress('creating a Postgres database and a Redis prefix of our own');
  const database = await createBenchDatabase('api');
  const redis = createBenchRedisPrefix('api');
  progress(`database ${database.name}, Redis prefix ${redis.prefix}`);
  const figures: Figure[] = [];
  try {
    const bootstrapKey = (await runNode([...TSX, CLI, 'keys', 'generate'], neutralEnv())).trim();
    const env = {
      ...neutralEnv(),
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      ORA_REDIS_PREFIX: redis.prefix,
      ORA_BOOTSTRAP_KEY: bootstrapKey,
      ORA_RATE_LIMIT_GLOBAL_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
    };
    let key: BenchKey | undefined;
    for (const scenario of list) {
      progress(`${scenario.label}: starting ORA and the baseline (${scenario.baseline})`);
      const ora = await spawnUntilReady({
        label: 'ORA (Postgres + Redis)',
        args: [...TSX, CLI, 'start'],
        env,
        readyLine: ORA_READY,
        readyPath: '/readyz',
      });
      let baseline: ChildServer | undefined;
      try {
        key ??= await createBenchKey(ora.url, bootstrapKey);
        baseline = await spawnUntilReady({
          label: `baseline (${scenario.baseline})`,
          args: [...TSX, 'bench/api.baseline.ts', scenario.baseline],
          env,
          readyLine: BASELINE_READY,
        });
        figures.push(...(await compare(scenario, ora, baseline, key, options)));
      } finally {
        for (const child of [ora, baseline]) {
          if (!child) continue;
          const ended = await child.stop();
          if (!ended.clean) {
            notes.push(`${child.label} did not exit cleanly on SIGTERM (code ${ended.code}, signal ${ended.signal}).`);
            progress(`warning: ${child.label} exited with code ${ended.code}, signal ${ended.signal}\n${child.tail()}`);
          }
        }
      }
    }
  } finally {
    await database.drop();
    const deleted = await redis.clear();
    progress(`dropped ${database.name}; deleted ${deleted} Redis keys under ${redis.prefix}`);
  }
  return figures;
}

async function createBenchKey(url: string, bootstrapKey: string): Promise<BenchKey> {
  const answer = await httpRequest(`${url}/api/ora/keys.create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bootstrapKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', scopes: ['*'], rateLimitPerMinute: 1e9, rateLimitPerDay: 1e9 }),
  });
  if (answer.status !== 200) throw new Error(`keys.create answered ${answer.status}: ${answer.body}`);
  const { data } = JSON.parse(answer.body) as { data: { key: { id: string }; secret: string } };
  return { id: data.key.id, secret: data.secret };
}

async function compare(
  scenario: Scenario,
  ora: ChildServer,
  baseline: ChildServer,
  key: BenchKey,
  options: Options,
): Promise<Figure[]> {
  const request = {
    method: 'POST' as const,
    headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
    body: scenario.body(key),
  };
  // One call each first: a wrong answer should stop the bench, not be measured.
  for (const server of [ora, baseline]) {
    const answer = await httpRequest(`${server.url}${scenario.path}`, request);
    if (answer.status !== 200) {
      throw new Error(`${server.label} answered ${scenario.path} with ${answer.status}: ${answer.body.slice(0, 500)}`);
    }
  }

  const results: Record<'ours' | 'baseline', LoadResult[]> = { ours: [], baseline: [] };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? (['baseline', 'ours'] as const) : (['ours', 'baseline'] as const);
    for (const side of order) {
      const server = side === 'ours' ? ora : baseline;
      const result = await measureLoad({
        url: `${server.url}${scenario.path}`,
        ...request,
        connections: options.connections,
        durationS: options.durationS,
        warmupS: options.warmupS,
        serverPid: server.pid,
      });
      results[side].push(result);
      progress(
        `${scenario.label}, round ${round + 1}/${options.rounds}, ${side === 'ours' ? 'ORA' : 'baseline'}: ` +
          `${formatValue(result.requestsPerSecond, 'req/s')}, p50 ${formatValue(result.p50Ms, 'ms')}, ` +
          `p99 ${formatValue(result.p99Ms, 'ms')}, ` +
          `server CPU ${formatValue(result.cpuUsPerRequest ?? Number.NaN, 'µs')}/request` +
          `${result.problems ? ` (${result.problems})` : ''}`,
      );
    }
  }

  const best = (list: LoadResult[]) =>
    list.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a), list[0] as LoadResult);
  const ours = best(results.ours);
  const base = best(results.baseline);
  const problems = [...results.ours, ...results.baseline].map((r) => r.problems).filter(Boolean);
  const invalid = problems.length ? { invalid: problems.join('; ') } : {};
  return [
    {
      name: `${scenario.label}: requests/s`,
      unit: 'req/s',
      ours: ours.requestsPerSecond,
      baseline: base.requestsPerSecond,
      higherIsBetter: true,
      target: { on: 'ratio', atLeast: scenario.target },
      ...invalid,
    },
    {
      name: `${scenario.label}: p50 latency`,
      unit: 'ms',
      ours: ours.p50Ms,
      baseline: base.p50Ms,
      higherIsBetter: false,
    },
    {
      name: `${scenario.label}: p99 latency`,
      unit: 'ms',
      ours: ours.p99Ms,
      baseline: base.p99Ms,
      higherIsBetter: false,
    },
    {
      name: `${scenario.label}: server CPU per request`,
      unit: 'µs',
      ours: lowest(results.ours.map((r) => r.cpuUsPerRequest)),
      baseline: lowest(results.baseline.map((r) => r.cpuUsPerRequest)),
      higherIsBetter: false,
    },
  ];
}

/** The lowest of the rounds: contention from other work only ever adds CPU time. */
function lowest(values: (number | null)[]): number {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.min(...known) : Number.NaN;
}

async function measureStart(notes: string[]): Promise<Figure[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ora-bench-start-'));
  const env = { ...neutralEnv(), ORA_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const startOnce = async (label: string, args: string[], readyLine: RegExp) => {
    progress(`${label}: spawning`);
    const server = await spawnUntilReady({ label, args, env, readyLine, readyPath: '/readyz', timeoutMs: 120_000 });
    const rss = residentMiB(server.pid);
    const ended = await server.stop();
    if (!ended.clean) {
      notes.push(`${label} did not exit cleanly on SIGTERM (code ${ended.code}, signal ${ended.signal}).`);
      progress(`warning: ${label} exited with code ${ended.code}, signal ${ended.signal}\n${server.tail()}`);
    }
    const at = (pattern: RegExp) => server.startup.find((l) => pattern.test(l.line))?.atMs;
    const [starting, listening] = [at(/starting/), at(/is ready at/)];
    const phases =
      starting !== undefined && listening !== undefined
        ? ` (modules loaded at ${formatValue(starting / 1000, 's')}, listening at ${formatValue(listening / 1000, 's')})`
        : '';
    progress(
      `${label}: /readyz 200 after ${formatValue(server.readyMs / 1000, 's')}${phases}, VmRSS ${formatValue(rss, 'MiB')}`,
    );
    return { seconds: server.readyMs / 1000, rss };
  };
  try {
    const baseline = await startOnce(
      'bare Fastify baseline',
      [...TSX, 'bench/api.baseline.ts', 'json'],
      BASELINE_READY,
    );
    const first = await startOnce('ORA embedded, first start', [...TSX, CLI, 'start'], ORA_READY);
    const second = await startOnce('ORA embedded, second start', [...TSX, CLI, 'start'], ORA_READY);
    const start = (name: string, ours: number): Figure => ({
      name,
      unit: 's',
      ours,
      baseline: baseline.seconds,
      higherIsBetter: false,
      target: { on: 'ours', atMost: 10 },
    });
    const memory = (name: string, ours: number): Figure => ({
      name,
      unit: 'MiB',
      ours,
      baseline: baseline.rss,
      higherIsBetter: false,
    });
    return [
      start('embedded first start: spawn to /readyz 200', first.seconds),
      memory('embedded first start: VmRSS when ready', first.rss),
      start('embedded second start: spawn to /readyz 200', second.seconds),
      memory('embedded second start: VmRSS when ready', second.rss),
    ];
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
