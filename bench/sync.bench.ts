/**
 * `pnpm bench sync [--mutations 10000] [--per-push 1000] [--batch 1000] [--raw-batch N] [--page 500] [--db postgres|pglite]`
 *
 * The sync engine in this process, against a Postgres database of its own (or PGlite):
 *
 * - push: `pushMutations` of `--mutations` new memories, then the same number of updates (each
 *   based on the version the first push answered), in requests of `--per-push` mutations applied
 *   in transactions of `--batch` (default: ORA_SYNC_PUSH_BATCH's default; the client row locked,
 *   conflict check, version and history rows, the mutation log, one audit row per batch); beside a
 *   raw batched `INSERT ... ON CONFLICT (id) DO UPDATE` of the same rows, `--raw-batch` rows per
 *   statement (default: the same as `--batch`), into a copy of agent_memory (its columns, defaults
 *   and indexes, not its triggers). Target: at least 40% of the raw rate.
 * - pull: `pullChanges` of those changes from cursor 0 in pages of `--page` (horizon, page bound,
 *   rows, decryption, mapping), p99 per page; beside raw keyset pages
 *   (`where server_version > $1 order by server_version limit $2`) over the same rows.
 *
 * No embedding jobs are enqueued (no queue): the push's own work is what is measured.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  createEmbedder,
  createMemoryServices,
  DEFAULT_MEMORY_SETTINGS,
  DEFAULT_SYNC_SETTINGS,
  pullChanges,
  pushMutations,
  type SyncDeps,
  systemActor,
  systemClock,
} from '@ora/core';
import { createDatabase, migrateToLatest, type OraDatabase } from '@ora/db';
import { sql } from 'kysely';
import { type BenchReport, createBenchDatabase, type Figure, progress } from './lib';

export const description =
  'sync.push of 10,000 memory mutations vs a raw batched INSERT ... ON CONFLICT; sync.pull pages p99 vs raw keyset pages';

interface Options {
  mutations: number;
  perPush: number;
  batch: number;
  rawBatch: number;
  page: number;
  db: 'postgres' | 'pglite';
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      mutations: { type: 'string', default: '10000' },
      'per-push': { type: 'string', default: '1000' },
      batch: { type: 'string', default: String(DEFAULT_SYNC_SETTINGS.pushBatchSize) },
      'raw-batch': { type: 'string' },
      page: { type: 'string', default: '500' },
      db: { type: 'string', default: 'postgres' },
    },
  });
  const int = (name: string, value: string | undefined, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
    return n;
  };
  const db = values.db === 'pglite' ? 'pglite' : values.db === 'postgres' ? 'postgres' : null;
  if (!db) throw new Error('--db must be postgres or pglite');
  return {
    mutations: int('mutations', values.mutations, 10, 1_000_000),
    perPush: int('per-push', values['per-push'], 1, 1000),
    batch: int('batch', values.batch, 1, 1000),
    rawBatch: int('raw-batch', values['raw-batch'] ?? values.batch, 1, 1000),
    page: int('page', values.page, 1, 1000),
    db,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

type SyncMemoryMutation = Parameters<typeof pushMutations>[2]['memories'][number];

const T0 = Date.parse('2026-11-25T08:00:00.000Z');

function memoryContent(i: number, round: number) {
  return {
    topic: `topic ${i % 97}`,
    note: `Remembered fact number ${i}, revision ${round}`,
    tags: ['sync', `t${i % 13}`],
  };
}

export async function run(args: string[]): Promise<BenchReport> {
  const options = parseOptions(args);
  const n = options.mutations;
  let database: OraDatabase;
  let drop = async () => {};
  if (options.db === 'postgres') {
    const bench = await createBenchDatabase('sync');
    drop = () => bench.drop();
    database = await createDatabase({ kind: 'postgres', url: bench.url, poolSize: 4 });
  } else {
    database = await createDatabase({ kind: 'pglite' });
  }
  try {
    progress(`migrating a fresh ${options.db} database`);
    await migrateToLatest(database.db);
    await database.refreshCapabilities();
    const log = {
      debug() {},
      info() {},
      warn() {},
      error() {},
      child() {
        return log;
      },
    };
    const memory = await createMemoryServices({
      database,
      settings: DEFAULT_MEMORY_SETTINGS,
      embedder: createEmbedder({ kind: 'local' }),
      log,
    });
    const deps: SyncDeps = {
      db: database.db,
      clock: systemClock,
      log,
      queue: null,
      memory,
      sync: { ...DEFAULT_SYNC_SETTINGS, pushBatchSize: options.batch },
    };
    await sql`create table raw_memory (like agent_memory including all)`.execute(database.db);

    const ids = Array.from({ length: n }, () => randomUUID());
    const clientId = `bench-${randomUUID()}`;
    const versions: Array<string | null> = new Array(n).fill(null);
    const mutation = (i: number, round: number, mutationId: number): SyncMemoryMutation => ({
      syncId: ids[i] as string,
      mutationId,
      action: 'upsert',
      baseVersion: versions[i] ?? null,
      data: {
        agentId: null,
        type: 'fact',
        key: `bench.memory.${i}`,
        content: memoryContent(i, round),
        summary: null,
        importance: 0.5,
        pinned: false,
        expiresAt: null,
        updatedAt: new Date(T0 + round * 1000).toISOString(),
      },
    });

    // Ours: two rounds (creates, then updates on the answered versions).
    const pushTimes: number[] = [];
    const pushRequestMs: number[] = [];
    let mutationId = 0;
    let conflicts = 0;
    for (const round of [1, 2]) {
      progress(`sync.push round ${round}: ${n} mutations in requests of ${options.perPush}`);
      const started = performance.now();
      for (let from = 0; from < n; from += options.perPush) {
        const memories = [];
        for (let i = from; i < Math.min(n, from + options.perPush); i++)
          memories.push(mutation(i, round, ++mutationId));
        const t = performance.now();
        const answer = await pushMutations(deps, systemActor, { clientId, memories, conversations: [] });
        pushRequestMs.push(performance.now() - t);
        for (const [j, result] of answer.mutations.entries()) {
          versions[from + j] = result.serverVersion;
          if (result.status !== 'applied') conflicts++;
        }
      }
      pushTimes.push(performance.now() - started);
    }
    if (conflicts > 0) throw new Error(`${conflicts} pushed mutations were not applied cleanly; the bench is broken`);

    // Raw: the same rows, batched INSERT ... ON CONFLICT, two rounds.
    const rawTimes: number[] = [];
    for (const round of [1, 2]) {
      progress(`raw INSERT ... ON CONFLICT round ${round}: ${n} rows in statements of ${options.rawBatch}`);
      const started = performance.now();
      for (let from = 0; from < n; from += options.rawBatch) {
        const rows = [];
        for (let i = from; i < Math.min(n, from + options.rawBatch); i++) {
          const content = memoryContent(i, round);
          rows.push(
            sql`(${ids[i]}::uuid, 'fact', ${`bench.memory.${i}`}, ${JSON.stringify(content)}::jsonb, ${`${content.topic} ${content.note}`}, 0.5, 'sync', ${new Date(T0 + round * 1000)}::timestamptz)`,
          );
        }
        await sql`
          insert into raw_memory (id, memory_type, key, content, content_text, importance, source, updated_at)
          values ${sql.join(rows)}
          on conflict (id) do update set content = excluded.content, content_text = excluded.content_text,
            updated_at = excluded.updated_at, version = raw_memory.version + 1,
            server_version = nextval('sync_version_seq')
        `.execute(database.db);
      }
      rawTimes.push(performance.now() - started);
    }

    // Pull every change from the start, ours and raw.
    progress(`sync.pull of ${n} changes in pages of ${options.page}`);
    const pullPageMs: number[] = [];
    let cursor = '0';
    let pulled = 0;
    const pullStarted = performance.now();
    for (;;) {
      const t = performance.now();
      const page = await pullChanges(deps, systemActor, { cursor, limit: options.page });
      pullPageMs.push(performance.now() - t);
      pulled += page.memories.length;
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const pullMs = performance.now() - pullStarted;
    if (pulled !== n) throw new Error(`pulled ${pulled} memories, expected ${n}`);

    progress('raw keyset pages over the same rows');
    const rawPageMs: number[] = [];
    let after = '0';
    const rawStarted = performance.now();
    for (;;) {
      const t = performance.now();
      const { rows } = await sql<{ server_version: string }>`
        select id, agent_id, memory_type, key, content, summary, importance, is_pinned, expires_at,
          updated_at, created_at, version, server_version
        from agent_memory where server_version > ${after}::bigint order by server_version limit ${options.page}
      `.execute(database.db);
      rawPageMs.push(performance.now() - t);
      if (rows.length === 0) break;
      after = String(rows.at(-1)?.server_version);
    }
    const rawPullMs = performance.now() - rawStarted;
    await memory.access.stop();

    const rate = (count: number, ms: number) => (count / ms) * 1000;
    const figures: Figure[] = [
      {
        name: `sync.push, new memories (${n}, ${options.db})`,
        unit: 'req/s',
        ours: rate(n, pushTimes[0] as number),
        baseline: rate(n, rawTimes[0] as number),
        higherIsBetter: true,
        target: { on: 'ratio', atLeast: 0.4 },
      },
      {
        name: `sync.push, updates on their base (${n}, ${options.db})`,
        unit: 'req/s',
        ours: rate(n, pushTimes[1] as number),
        baseline: rate(n, rawTimes[1] as number),
        higherIsBetter: true,
        target: { on: 'ratio', atLeast: 0.4 },
      },
      {
        name: `sync.push request of ${options.perPush}, p99`,
        unit: 'ms',
        ours: percentile(pushRequestMs, 99),
        baseline: null,
        higherIsBetter: false,
      },
      {
        name: `sync.pull, changes/s (${n}, pages of ${options.page})`,
        unit: 'req/s',
        ours: rate(n, pullMs),
        baseline: rate(n, rawPullMs),
        higherIsBetter: true,
      },
      {
        name: `sync.pull page of ${options.page}, p99`,
        unit: 'ms',
        ours: percentile(pullPageMs, 99),
        baseline: percentile(rawPageMs, 99),
        higherIsBetter: false,
      },
    ];
    return {
      summary: `sync.push and sync.pull in-process on ${options.db === 'postgres' ? 'Postgres (a database of its own)' : 'PGlite'}, beside raw SQL on the same rows in the same run.`,
      settings: [
        `${n} memory mutations per round, ${options.perPush} per push request, ${options.batch} per transaction (ORA_SYNC_PUSH_BATCH)`,
        'round 1 creates the memories, round 2 updates each on the version round 1 answered (no conflicts)',
        `raw: INSERT ... ON CONFLICT (id) DO UPDATE, ${options.rawBatch} rows per statement, into a copy of agent_memory (columns, defaults, indexes; no triggers)`,
        `pull: ${Math.ceil(n / options.page)} pages of ${options.page} from cursor 0; raw: keyset pages on server_version`,
        'no embedding jobs (no queue); one client, no concurrent writers',
      ],
      figures,
      notes: [
        'A push does per batch what a raw upsert does not: the client row lock and the replay/gap check, the conflict check against each row’s version, a history row per change, the mutation log row per mutation (its stored answer), and an audit row; the version triggers draw each version after the transaction id (the pull horizon).',
        'A pull page also waits for its horizon (no writer in flight here, so a single check), reads the page bound over memories, conversations, messages and tombstones, and maps each row to the contract.',
      ],
    };
  } finally {
    await database.close();
    await drop();
  }
}
