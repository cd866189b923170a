/**
 * Shared pieces of `pnpm bench <area>`: progress lines, the machine description, figures and their
 * table, the section each area keeps in docs/benchmarks.md, an autocannon run, child servers that
 * are spawned until ready, and a Postgres database and Redis prefix of a benchmark's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from '@ora/testkit';
import autocannon from 'autocannon';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(benchDir, '..');
export const benchmarksDoc = path.join(repoRoot, 'docs', 'benchmarks.md');

// ---------------------------------------------------------------------------------------------
// What an area module exports

export interface BenchReport {
  /** One line under the section heading: what was measured and how. */
  summary: string;
  /** Run settings, one bullet each (connections, durations, logging, ...). */
  settings: string[];
  figures: Figure[];
  /** Anything a reader needs to read the figures right. */
  notes?: string[];
  /** Only some of the area's figures were measured: docs/benchmarks.md is left as it is. */
  partial?: boolean;
}

/** `bench/<area>.bench.ts` exports these two. */
export interface BenchArea {
  description: string;
  run(args: string[]): Promise<BenchReport>;
}

// ---------------------------------------------------------------------------------------------
// Progress and cleanup

const began = performance.now();

/** A progress line on stderr, stamped with the time since the bench started. */
export function progress(line: string): void {
  const seconds = ((performance.now() - began) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds} s] ${line}\n`);
}

const cleanups = new Set<() => Promise<unknown>>();

/** Work to do if the bench is interrupted (Ctrl-C): stop children, drop databases. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs every registered cleanup, newest first; run.ts calls it on SIGINT/SIGTERM. */
export async function runInterruptCleanups(): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    await cleanup().catch((error: unknown) => progress(`cleanup failed: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Machine

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the bench started: other work on a shared machine shows here. */
  loadAtStart: number;
}

export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpu = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: os.cpus() named it.
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    ramGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGiB.toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}; load average ${m.loadAtStart.toFixed(2)} at start`;
}

// ---------------------------------------------------------------------------------------------
// Figures and their table

export type Unit = 'req/s' | 'ms' | 'µs' | 's' | 'MiB' | 'fraction';

/** A bound on the ratio to the baseline, or on our own value. */
export interface Target {
  on: 'ratio' | 'ours';
  atLeast?: number;
  atMost?: number;
}

export interface Figure {
  name: string;
  unit: Unit;
  ours: number;
  baseline: number | null;
  /** Throughput: the ratio reads as a share of the baseline. Costs (time, memory): as a multiple. */
  higherIsBetter: boolean;
  target?: Target;
  /** Why the measurement itself cannot be trusted (errors, non-2xx answers): the figure fails. */
  invalid?: string;
}

export type Verdict = 'pass' | 'FAIL' | 'invalid' | '—';

export function ratioOf(figure: Figure): number | null {
  return figure.baseline ? figure.ours / figure.baseline : null;
}

export function verdict(figure: Figure): Verdict {
  if (figure.invalid) return 'invalid';
  const { target } = figure;
  if (!target) return '—';
  const value = target.on === 'ratio' ? ratioOf(figure) : figure.ours;
  if (value === null) return 'FAIL';
  if (target.atLeast !== undefined && value < target.atLeast) return 'FAIL';
  if (target.atMost !== undefined && value > target.atMost) return 'FAIL';
  return 'pass';
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'req/s':
      return `${grouped.format(value)} req/s`;
    case 'ms':
      // autocannon measures whole milliseconds: no decimals it does not have.
      return `${value < 10 && !Number.isInteger(value) ? value.toFixed(1) : grouped.format(value)} ms`;
    case 'µs':
      return `${grouped.format(value)} µs`;
    case 's':
      return `${value.toFixed(2)} s`;
    case 'MiB':
      return `${grouped.format(value)} MiB`;
    case 'fraction':
      return value.toFixed(3);
  }
}

function formatRatio(figure: Figure): string {
  const ratio = ratioOf(figure);
  if (ratio === null) return '—';
  return figure.higherIsBetter ? `${(ratio * 100).toFixed(0)}%` : `${ratio.toFixed(2)}×`;
}

function formatTarget(figure: Figure): string {
  const { target } = figure;
  if (!target) return '—';
  const bound = (value: number) =>
    target.on === 'ours'
      ? formatValue(value, figure.unit)
      : figure.higherIsBetter
        ? `${(value * 100).toFixed(0)}% of baseline`
        : `${value}× baseline`;
  const parts = [];
  if (target.atLeast !== undefined) parts.push(`≥ ${bound(target.atLeast)}`);
  if (target.atMost !== undefined) parts.push(`≤ ${bound(target.atMost)}`);
  return parts.join(', ');
}

export const tableHeader = ['figure', 'ours', 'baseline', 'ratio', 'target', 'result'];

export function figureRow(figure: Figure): string[] {
  return [
    figure.name,
    formatValue(figure.ours, figure.unit),
    figure.baseline === null ? '—' : formatValue(figure.baseline, figure.unit),
    formatRatio(figure),
    formatTarget(figure),
    verdict(figure),
  ];
}

/** A plain-text table: text columns left-aligned, the rest right-aligned. */
export function textTable(header: string[], rows: string[][], leftAligned = new Set([0, 4, 5])): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (leftAligned.has(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A Markdown table, padded the way `biome check --write` formats one (so the docs stay as written). */
export function markdownTable(header: string[], rows: string[][], leftAligned = new Set([0, 4, 5])): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => cell.replaceAll('|', '\\|')));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => (leftAligned.has(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = widths.map((w, i) => (leftAligned.has(i) ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`));
  const [head = [], ...body] = cells;
  return [line(head), `| ${rule.join(' | ')} |`, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// docs/benchmarks.md: one section per area between markers

const DOC_INTRO = `# Benchmarks

\`pnpm bench <area>\` measures one area of ORA and rewrites that area's section below (between its
\`<!-- bench:<area>:start -->\` and \`<!-- bench:<area>:end -->\` markers; the rest of the file is left
alone). Every figure is printed beside a baseline measured in the same run on the same machine, so
the ratio means more than the absolute number: the machines these run on are small and shared.
\`pnpm bench\` with no area lists the areas.
`;

/** Puts `body` between the area's markers in docs/benchmarks.md (creating the file or section). */
export function writeSection(area: string, body: string, file = benchmarksDoc): void {
  const start = `<!-- bench:${area}:start -->`;
  const end = `<!-- bench:${area}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : DOC_INTRO;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from !== -1 && to > from
      ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n${block}\n`;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, next);
}

/** Prints the figures as a table and rewrites the area's section; answers how many failed. */
export function publish(area: string, report: BenchReport, machine: Machine, when = new Date()): number {
  const rows = report.figures.map(figureRow);
  process.stdout.write(`\n${report.settings.map((line) => `- ${line}`).join('\n')}\n`);
  process.stdout.write(`\n${textTable(tableHeader, rows)}\n\n`);
  for (const figure of report.figures) {
    if (figure.invalid) process.stdout.write(`invalid: ${figure.name}: ${figure.invalid}\n`);
  }
  const failed = report.figures.filter((f) => verdict(f) === 'FAIL' || verdict(f) === 'invalid').length;
  const body = [
    `## ${area}`,
    '',
    report.summary,
    '',
    `Last run ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine(machine)}, ` +
      `${(os.loadavg()[0] ?? 0).toFixed(2)} at the end.`,
    '',
    ...report.settings.map((s) => `- ${s}`),
    '',
    markdownTable(tableHeader, rows),
    ...(report.notes?.length ? ['', ...report.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
  const doc = path.relative(repoRoot, benchmarksDoc);
  if (!report.partial) writeSection(area, body);
  process.stdout.write(
    `${failed === 0 ? 'Every figure met its target' : `${failed} of ${report.figures.length} figures missed their targets`}; ` +
      `${report.partial ? `a partial run, so ${doc} is left as it was` : `wrote the "${area}" section of ${doc}`}.\n`,
  );
  return failed;
}

// ---------------------------------------------------------------------------------------------
// Load (autocannon in this process)

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds measured. */
  durationS: number;
  /** Seconds of the same load before, not counted (JIT, pools, caches). */
  warmupS: number;
  /** The server's process: its CPU time over the measured run is reported per request. */
  serverPid?: number;
  /** Requests per second in all, instead of as many as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  /** 2xx answers per second over the measured time. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  /**
   * CPU time (user + system, all threads) the server process spent per answered request, in µs.
   * Unlike requests/s it hardly moves when other work shares the machine.
   */
  cpuUsPerRequest: number | null;
  /** Non-2xx answers, connection errors and timeouts: any makes the run untrustworthy. */
  problems: string | null;
}

/** A warm-up run, then the measured run, with the same connections and request. */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const base = {
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
  };
  if (options.warmupS > 0) await autocannon({ ...base, duration: options.warmupS });
  const cpuBefore = options.serverPid ? cpuSeconds(options.serverPid) : null;
  const result = await autocannon({ ...base, duration: options.durationS });
  const cpuAfter = options.serverPid ? cpuSeconds(options.serverPid) : null;
  const answered = result['2xx'] + result.non2xx;
  const issues = [];
  if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, s]) => `${s.count}× ${code}`);
    issues.push(`${result.non2xx} non-2xx answers (${codes.join(', ')})`);
  }
  if (result.errors > 0) issues.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: answered,
    cpuUsPerRequest:
      cpuBefore !== null && cpuAfter !== null && answered > 0 ? ((cpuAfter - cpuBefore) * 1e6) / answered : null,
    problems: issues.length ? issues.join('; ') : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Child servers

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One HTTP request on a fresh connection (no keep-alive, no fetch start-up cost in timings). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: options.timeoutMs ?? 5000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within the timeout`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The environment without any of ORA's own settings, so a child gets only what the bench sets. */
export function neutralEnv(): NodeJS.ProcessEnv {
  const ours =
    /^(ORA_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|LOG_LEVEL$|OPENAI_|ANTHROPIC_|NODE_OPTIONS$|TSX_|npm_|PNPM_)/;
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !ours.test(name)));
}

export interface SpawnOptions {
  label: string;
  /** Arguments to node (process.execPath), e.g. ['--import', 'tsx', 'apps/api/src/cli.ts', 'start']. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** A stdout line saying the server listens; its first group is the base URL. */
  readyLine: RegExp;
  /** Then GET this path until it answers 200 (e.g. /readyz). */
  readyPath?: string;
  timeoutMs?: number;
}

export interface ChildServer {
  label: string;
  pid: number;
  url: string;
  /** From spawn until the ready line (and, with readyPath, a 200 from it). */
  readyMs: number;
  /** What the child printed on stdout until it was ready, each line with its time since spawn. */
  startup: { atMs: number; line: string }[];
  /** The last lines the child printed (secrets redacted), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; answers how it ended. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; clean: boolean }>;
}

const SECRET = /ora_sk_\w+/g;

/** Spawns `node <args>` in the repository root and waits until it serves. */
export async function spawnUntilReady(options: SpawnOptions): Promise<ChildServer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const child = spawn(process.execPath, options.args, {
    cwd: repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const startup: { atMs: number; line: string }[] = [];
  let ready = false;
  const keep = (stream: string, line: string) => {
    lines.push(`${stream}: ${line.replace(SECRET, 'ora_sk_[redacted]')}`);
    if (lines.length > 60) lines.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  // Always drain both pipes: a child blocked on a full pipe would stall the benchmark.
  createInterface({ input: child.stderr }).on('line', (line) => keep('stderr', line));
  const stdout = createInterface({ input: child.stdout });
  const urlFromLine = new Promise<string>((resolve) => {
    stdout.on('line', (line) => {
      keep('stdout', line);
      if (!ready) startup.push({ atMs: performance.now() - started, line: line.replace(SECRET, 'ora_sk_[redacted]') });
      const match = options.readyLine.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
  });

  const tail = () => lines.join('\n');
  const stop: ChildServer['stop'] = async (graceMs = 15_000) => {
    if (!hasExited) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!hasExited) child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([exited, killed]);
    const ended = await exited;
    clearTimeout(timer);
    return { ...ended, clean: ended.code === 0 };
  };
  const forget = onInterrupt(() => stop(5_000));

  const fail = async (why: string): Promise<never> => {
    await stop(5_000);
    forget();
    throw new Error(`${options.label} did not start: ${why}\n${tail()}`);
  };
  let deadline: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    deadline = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const first = await Promise.race([urlFromLine, exited.then(() => 'exit' as const), timedOut]);
    if (first === 'exit') return await fail('it exited');
    if (first === 'timeout') return await fail(`no ready line within ${timeoutMs} ms`);
    const url = first;
    if (options.readyPath) {
      for (;;) {
        const answer = await httpRequest(`${url}${options.readyPath}`, { timeoutMs: 2000 }).catch(() => null);
        if (answer?.status === 200) break;
        if (hasExited) return await fail('it exited');
        if (performance.now() - started > timeoutMs) {
          return await fail(`${options.readyPath} did not answer 200 within ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const readyMs = performance.now() - started;
    ready = true;
    return {
      label: options.label,
      pid: child.pid as number,
      url,
      readyMs,
      startup,
      tail,
      async stop(graceMs) {
        const ended = await stop(graceMs);
        forget();
        return ended;
      },
    };
  } finally {
    clearTimeout(deadline);
  }
}

/** CPU time a process has used so far (user + system, all its threads), from /proc/<pid>/stat, in s. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state; utime and stime are the
  // 14th and 15th fields, in USER_HZ (100 per second on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU time used so far by every process whose command name is `name` (e.g. "postgres"), in s. */
export function cpuSecondsOf(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
      total += cpuSeconds(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/** Resident memory of a process (VmRSS from /proc), in MiB. */
export function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

/** Runs `node <args>` to completion and answers its stdout (for one-shot CLI commands). */
export function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited with ${code}: ${err.trim()}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Postgres and Redis of the benchmark's own

// The root package depends on no driver; load the ones the test kit uses (the same copies the
// test suites run), typed by the little used here.
const requireFromTestkit = createRequire(path.join(repoRoot, 'packages', 'testkit', 'package.json'));

interface PgClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
}
interface RedisClient {
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  del(...keys: string[]): Promise<number>;
  quit(): Promise<unknown>;
}

// The services the integration tests use (ORA_TEST_DATABASE_URL / ORA_TEST_REDIS_URL override them).
export const BENCH_POSTGRES_URL = TEST_POSTGRES_URL;
export const BENCH_REDIS_URL = TEST_REDIS_URL;

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function withPg<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
  const pg = requireFromTestkit('pg') as { Client: new (config: { connectionString: string }) => PgClient };
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Postgres at ${BENCH_POSTGRES_URL} does not answer (${(error as Error).message}); start it first`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database `ora_bench_<area>_<random>`; `drop()` removes it. */
export async function createBenchDatabase(area: string): Promise<BenchDatabase> {
  const name = `ora_bench_${area.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  await withPg((client) => client.query(`create database ${name}`));
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  const drop = () => withPg((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {});
  const forget = onInterrupt(drop);
  return {
    name,
    url: url.toString(),
    async drop() {
      forget();
      await drop();
    },
  };
}

export interface BenchRedisPrefix {
  url: string;
  prefix: string;
  /** Deletes every key under the prefix; answers how many. */
  clear(): Promise<number>;
}

/** A Redis key prefix `ora_bench:<area>:<random>:` of the benchmark's own. */
export function createBenchRedisPrefix(area: string): BenchRedisPrefix {
  const prefix = `ora_bench:${area.replace(/\W/g, '_')}:${randomBytes(4).toString('hex')}:`;
  const clear = async () => {
    const { Redis } = requireFromTestkit('ioredis') as {
      Redis: new (url: string, options: object) => RedisClient;
    };
    const redis = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: 1 });
    let deleted = 0;
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      await redis.quit();
    }
    return deleted;
  };
  const forget = onInterrupt(clear);
  return {
    url: BENCH_REDIS_URL,
    prefix,
    async clear() {
      forget();
      return clear();
    },
  };
}
