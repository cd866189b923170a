/**
 * `pnpm bench site [--duration 10] [--warmup 3] [--connections 50] [--rounds 2]`
 *
 * The public read side: `GET /posts/:slug` revalidated with If-None-Match (answered 304) against a
 * static JSON route of the same server (`GET /healthz`), both on one embedded ORA started as
 * `ora start` in a child process, load from autocannon here. For reading the numbers, the full 200
 * answer of the same page (HTML from the page cache) is measured too, without a target.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  type BenchReport,
  type ChildServer,
  type Figure,
  formatValue,
  httpRequest,
  type LoadResult,
  measureLoad,
  neutralEnv,
  onInterrupt,
  progress,
  runNode,
  spawnUntilReady,
} from './lib';

export const description = 'GET /posts/:slug with ETag revalidation against a static JSON route of the same server';

const TSX = ['--import', 'tsx'];
const CLI = 'apps/api/src/cli.ts';
const ORA_READY = /ORA is ready at (http:\/\/\S+)/;
const TARGET = 0.5;

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  rounds: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '2' },
    },
  });
  const number = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0 (got "${value}")`);
    return n;
  };
  return {
    durationS: number('duration', values.duration),
    warmupS: number('warmup', values.warmup),
    connections: Math.max(1, Math.round(number('connections', values.connections))),
    rounds: Math.max(1, Math.round(number('rounds', values.rounds))),
  };
}

/** A post of a realistic size: headings, lists, links, code, about 6 KB of markdown. */
function benchPostBody(): string {
  const section = (n: number) => `## Section ${n}

Agents that write for a living need *guard rails*: a brief, a voice, and a reviewer. This paragraph
talks about [safety](https://example.com/safety/${n}) and **evaluation**, with \`inline code\` and a list:

- one thing to check before publishing
- another thing, with a [link](https://example.com/${n})
- a third, longer item that wraps across the line to make the paragraph a little more like real text

\`\`\`ts
export function check${n}(draft: string): boolean {
  return draft.length > 0 && !draft.includes('<script>');
}
\`\`\`
`;
  return `# AI safety for small teams\n\n${Array.from({ length: 8 }, (_, i) => section(i + 1)).join('\n')}`;
}

/**
 * Like lib's measureLoad, but a 304 counts as an answer: revalidation answers 304 by design, which
 * measureLoad would report as non-2xx. Anything other than 304 is still a problem.
 */
async function measureRevalidation(url: string, etag: string, options: Options): Promise<LoadResult> {
  const base = {
    url,
    method: 'GET' as const,
    headers: { 'if-none-match': etag },
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
  };
  if (options.warmupS > 0) await autocannon({ ...base, duration: options.warmupS });
  const result = await autocannon({ ...base, duration: options.durationS });
  const notModified = result.statusCodeStats['304']?.count ?? 0;
  const others = Object.entries(result.statusCodeStats).filter(([code]) => code !== '304');
  const issues = [];
  if (others.length > 0)
    issues.push(`answers other than 304: ${others.map(([c, s]) => `${s.count}× ${c}`).join(', ')}`);
  if (result.errors > 0) issues.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  return {
    requestsPerSecond: notModified / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: notModified,
    cpuUsPerRequest: null,
    problems: issues.length ? issues.join('; ') : null,
  };
}

async function publishBenchPost(url: string, key: string): Promise<string> {
  const call = async (action: string, data: unknown) => {
    const answer = await httpRequest(`${url}/api/ora/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(data),
    });
    if (answer.status !== 200) throw new Error(`${action} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    return (JSON.parse(answer.body) as { data: { id: string; slug: string } }).data;
  };
  const post = await call('posts.create', {
    title: 'AI safety for small teams',
    body: benchPostBody(),
    excerpt: 'Guard rails for agents that write.',
    tags: ['ai', 'safety'],
  });
  await call('posts.publish', { id: post.id });
  return post.slug;
}

export async function run(args: string[]): Promise<BenchReport> {
  const options = parseOptions(args);
  const notes: string[] = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ora-bench-site-'));
  const forget = onInterrupt(() => rm(dataDir, { recursive: true, force: true }));
  let ora: ChildServer | undefined;
  try {
    const bootstrapKey = (await runNode([...TSX, CLI, 'keys', 'generate'], neutralEnv())).trim();
    progress('starting ORA (embedded, PGlite in a fresh data directory)');
    ora = await spawnUntilReady({
      label: 'ORA (embedded)',
      args: [...TSX, CLI, 'start'],
      env: {
        ...neutralEnv(),
        ORA_DATA_DIR: dataDir,
        ORA_BOOTSTRAP_KEY: bootstrapKey,
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: '0',
      },
      readyLine: ORA_READY,
      readyPath: '/readyz',
      timeoutMs: 120_000,
    });
    const slug = await publishBenchPost(ora.url, bootstrapKey);
    const pageUrl = `${ora.url}/posts/${slug}`;
    const first = await fetch(pageUrl, { headers: { accept: 'text/html' } });
    const etag = first.headers.get('etag');
    const html = await first.text();
    if (first.status !== 200 || !etag) throw new Error(`GET /posts/${slug} answered ${first.status} without an ETag`);
    const check = await fetch(pageUrl, { headers: { 'if-none-match': etag } });
    if (check.status !== 304) throw new Error(`If-None-Match with the page's ETag answered ${check.status}, not 304`);
    progress(`post page: ${html.length} bytes of HTML, ETag ${etag}`);

    const best = (list: LoadResult[]) => list.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    const runs: Record<'static' | 'revalidate' | 'full', LoadResult[]> = { static: [], revalidate: [], full: [] };
    const server = ora;
    const measure = {
      static: () =>
        measureLoad({
          url: `${server.url}/healthz`,
          connections: options.connections,
          durationS: options.durationS,
          warmupS: options.warmupS,
        }),
      revalidate: () => measureRevalidation(pageUrl, etag, options),
      full: () =>
        measureLoad({
          url: pageUrl,
          headers: { accept: 'text/html' },
          connections: options.connections,
          durationS: options.durationS,
          warmupS: options.warmupS,
        }),
    };
    for (let round = 0; round < options.rounds; round++) {
      const order =
        round % 2 === 0 ? (['static', 'revalidate', 'full'] as const) : (['full', 'revalidate', 'static'] as const);
      for (const which of order) {
        const result = await measure[which]();
        runs[which].push(result);
        progress(
          `round ${round + 1}/${options.rounds}, ${which}: ${formatValue(result.requestsPerSecond, 'req/s')}, ` +
            `p50 ${formatValue(result.p50Ms, 'ms')}, p99 ${formatValue(result.p99Ms, 'ms')}` +
            `${result.problems ? ` (${result.problems})` : ''}`,
        );
      }
    }
    const staticBest = best(runs.static);
    const revalidate = best(runs.revalidate);
    const full = best(runs.full);
    const invalid = (list: LoadResult[]) => {
      const problems = list.map((r) => r.problems).filter(Boolean);
      return problems.length ? { invalid: problems.join('; ') } : {};
    };
    const figures: Figure[] = [
      {
        name: 'GET /posts/:slug, If-None-Match (304): requests/s',
        unit: 'req/s',
        ours: revalidate.requestsPerSecond,
        baseline: staticBest.requestsPerSecond,
        higherIsBetter: true,
        target: { on: 'ratio', atLeast: TARGET },
        ...invalid([...runs.revalidate, ...runs.static]),
      },
      {
        name: 'GET /posts/:slug, If-None-Match (304): p99 latency',
        unit: 'ms',
        ours: revalidate.p99Ms,
        baseline: staticBest.p99Ms,
        higherIsBetter: false,
      },
      {
        name: `GET /posts/:slug, full page (200, ${Math.round(html.length / 1024)} KiB HTML): requests/s`,
        unit: 'req/s',
        ours: full.requestsPerSecond,
        baseline: staticBest.requestsPerSecond,
        higherIsBetter: true,
        ...invalid(runs.full),
      },
    ];
    return {
      summary:
        'The public post page revalidated by a visitor (If-None-Match, answered 304 from the page cache) against ' +
        'GET /healthz, a static JSON route of the same server; and the full page for reference.',
      settings: [
        `Load: autocannon in the bench process, ${options.connections} connections, no pipelining, ` +
          `${options.warmupS} s warm-up then ${options.durationS} s measured, ${options.rounds} round(s) in alternating order; ` +
          'the best round of each is shown.',
        'ORA: `node --import tsx apps/api/src/cli.ts start`, embedded (PGlite) in a fresh ORA_DATA_DIR, LOG_LEVEL=warn, ' +
          'default ORA_SITE_CACHE_TTL_MS (5 s): a page is rendered from the database at most once per 5 s per process.',
        'Baseline: GET /healthz on the same ORA process ({"status":"ok"}), so both go through the same Fastify ' +
          'plugins and hooks (helmet, request id, metrics).',
      ],
      figures,
      notes,
    };
  } finally {
    if (ora) {
      const ended = await ora.stop();
      if (!ended.clean) notes.push(`ORA did not exit cleanly on SIGTERM (code ${ended.code}, signal ${ended.signal}).`);
    }
    await rm(dataDir, { recursive: true, force: true });
    forget();
  }
}
