/**
 * `pnpm bench memory [--memories 10000[,50000]] [--queries 200] [--upserts 2000] [--concurrency 8] [--ef 40]`
 *
 * Memory on the embedded default (PGlite with pgvector), in this process:
 *
 * - upsert throughput including the asynchronous embedding (over the first `--upserts` rows of
 *   the first size): `upsertMemory` (version row, audit, job enqueued after commit) with the
 *   `memory.embed` job consuming on the embedded queue, timed until every row is embedded and in
 *   the HNSW index; beside raw single-row INSERTs of the same rows with the vector computed inline
 *   (no version, audit or queue). The two alternate in chunks, so both pay for an index of the
 *   same size. The remaining rows are loaded in bulk and indexed by one HNSW build (as the
 *   migrations define the index), which in PGlite costs a fraction of growing it row by row.
 * - vector search: `searchMemoryRows` (query embedded, filters, iterative HNSW scan, scoring) p50,
 *   p99 and recall@10 against exact brute force over the same vectors, beside the raw pgvector
 *   HNSW query (`order by embedding <=> $1 limit 10`, default ef_search) on the same data; hybrid
 *   search latency is printed too.
 *
 * The data is text-like: sentences drawn from a Zipf-distributed vocabulary in 150 topics,
 * embedded by the local feature-hashing embedder (1536 dimensions), not uniform random vectors.
 * PGlite builds the HNSW index in about a minute per 10,000 vectors here; `--memories 10000,50000`
 * measures both sizes (each on a fresh database) and takes several minutes more.
 */
import { parseArgs } from 'node:util';
import {
  createMemoryServices,
  createQueueDriver,
  DEFAULT_MEMORY_SETTINGS,
  efSearchFor,
  embedMemories,
  type MemoryDeps,
  searchMemoryRows,
  systemActor,
  systemClock,
  upsertMemory,
} from '@ora/core';
import { createDatabase, encodeVector, migrateToLatest } from '@ora/db';
import { contentToText, exactTopK, FeatureHashingEmbedder, humanizeKey } from '@ora/retrieval';
import { sql } from 'kysely';
import { type BenchReport, type Figure, progress } from './lib';

export const description =
  'memory upserts with async embedding vs raw inserts; vector search p50/p99 and recall@10 vs a raw pgvector HNSW query (PGlite)';

interface Options {
  /** Sizes measured one after the other, each on a fresh database. */
  sizes: number[];
  queries: number;
  concurrency: number;
  upserts: number;
  chunk: number;
  ef: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      memories: { type: 'string', default: '10000' },
      queries: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '8' },
      upserts: { type: 'string', default: '2000' },
      ef: { type: 'string', default: String(DEFAULT_MEMORY_SETTINGS.efSearch) },
      chunk: { type: 'string', default: '250' },
    },
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got "${value}")`);
    return n;
  };
  return {
    sizes: values.memories.split(',').map((size) => int('memories', size.trim(), 100)),
    queries: int('queries', values.queries, 10),
    concurrency: int('concurrency', values.concurrency, 1),
    upserts: int('upserts', values.upserts, 20),
    ef: int('ef', values.ef, 10),
    chunk: int('chunk', values.chunk, 10),
  };
}

// ---------------------------------------------------------------------------------------------
// Text-like data

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = (
  'time year people way day man thing woman life child world school state family student group country ' +
  'problem hand part place case week company system program question work government number night point ' +
  'home water room mother area money story fact month lot right study book eye job word business issue side ' +
  'kind head house service friend father power hour game line end member law car city community name ' +
  'president team minute idea kid body information back parent face others level office door health person ' +
  'art war history party result change morning reason research girl guy moment air teacher force education ' +
  'post blog newsletter draft agent client invoice meeting launch campaign report review plan schedule ' +
  'design image video podcast course lesson article headline keyword traffic signup price budget deadline'
).split(' ');
const SYLLABLES = 'ka lo mi ne ru sa te vo zi pa qua bre cli dro fen gra hol jun kes lum mor nix orb pel'.split(' ');

/** A vocabulary of common words and made-up topic words (so topics have their own terms). */
function vocabulary(random: () => number, size: number): string[] {
  const words = new Set(COMMON);
  while (words.size < size) {
    const n = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < n; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/** Index drawn with probability ∝ 1/(rank+1) (Zipf, s = 1). */
function zipf(random: () => number, n: number): number {
  const harmonic = Math.log(n) + 0.5772;
  const target = random() * harmonic;
  return Math.min(n - 1, Math.max(0, Math.floor(Math.exp(target - 0.5772)) - 1));
}

interface Corpus {
  texts: string[];
  queries: string[];
}

export function corpus(memories: number, queries: number): Corpus {
  const random = mulberry32(1536);
  const vocab = vocabulary(random, 6000);
  const topics = Array.from({ length: 150 }, () =>
    Array.from(
      { length: 40 },
      () => vocab[COMMON.length + Math.floor(random() * (vocab.length - COMMON.length))] as string,
    ),
  );
  const sentence = (topic: string[], length: number) => {
    const words: string[] = [];
    for (let i = 0; i < length; i++) {
      words.push(
        random() < 0.55 ? (topic[zipf(random, topic.length)] as string) : (vocab[zipf(random, vocab.length)] as string),
      );
    }
    return words.join(' ');
  };
  const texts = Array.from({ length: memories }, () =>
    sentence(topics[Math.floor(random() * topics.length)] as string[], 12 + Math.floor(random() * 28)),
  );
  const asked = Array.from({ length: queries }, () =>
    sentence(topics[Math.floor(random() * topics.length)] as string[], 4 + Math.floor(random() * 6)),
  );
  return { texts, queries: asked };
}

// ---------------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

function recallAt(found: string[][], truth: string[][]): number {
  let sum = 0;
  for (let i = 0; i < truth.length; i++) {
    const expected = new Set(truth[i]);
    sum += (found[i] ?? []).filter((id) => expected.has(id)).length / expected.size;
  }
  return sum / truth.length;
}

const silent = {
  debug() {},
  info() {},
  warn(obj: unknown, msg?: string) {
    progress(`warn: ${msg ?? ''} ${obj instanceof Error ? obj.message : ''}`);
  },
  error(obj: unknown, msg?: string) {
    progress(`error: ${msg ?? ''} ${obj instanceof Error ? obj.message : ''}`);
  },
  child() {
    return silent;
  },
};

interface Measurement {
  figures: Figure[];
  settings: string[];
}

/** One size on a fresh PGlite: writes (when asked), bulk load and index build, then searches. */
async function measure(options: Options, size: number, withWrites: boolean): Promise<Measurement> {
  progress(`${size} memories: generating them and ${options.queries} queries`);
  const data = corpus(size, options.queries);
  const keys = data.texts.map((_, i) => `note.${i}`);
  const embedder = new FeatureHashingEmbedder();
  // What the embedding job embeds: the key as words, then the content's text (no summary here).
  const embedText = (i: number) => [humanizeKey(keys[i] as string), contentToText(data.texts[i])].join('\n');

  const database = await createDatabase({ kind: 'pglite' });
  await migrateToLatest(database.db);
  const capabilities = await database.refreshCapabilities();
  if (!capabilities.vector) throw new Error('PGlite came up without pgvector');
  const queue = createQueueDriver({ kind: 'embedded', db: database.db, log: silent, pollIntervalMs: 50 });
  const services = await createMemoryServices({
    database,
    settings: { ...DEFAULT_MEMORY_SETTINGS, maxPerAgent: 10_000_000, efSearch: options.ef },
    embedder,
    log: silent,
  });
  const deps: MemoryDeps = { db: database.db, clock: systemClock, log: silent, queue, memory: services };
  const consumer = queue.consume(
    'memory',
    async (job) => {
      await embedMemories(deps, (job.payload as { memoryIds: string[] }).memoryIds);
    },
    { concurrency: 4 },
  );
  let consumerOpen = true;
  const closeConsumer = async () => {
    if (consumerOpen) await consumer.close({ deadlineMs: 5000 });
    consumerOpen = false;
  };

  try {
    // --- Upserts (ours) and raw inserts (baseline), alternating chunks --------------------------
    const idOf = new Array<string>(size);
    let oursMs = 0;
    let oursCount = 0;
    let rawMs = 0;
    let rawCount = 0;
    const unembedded = async () =>
      Number(
        (
          await sql<{
            n: string;
          }>`select count(*) as n from agent_memory where embedded_at is null and deleted_at is null`.execute(
            database.db,
          )
        ).rows[0]?.n,
      );
    const measured = withWrites ? Math.min(options.upserts, size) : 0;
    if (measured > 0) {
      progress(
        `writes: ${measured} memories in chunks of ${options.chunk}, upsert + async embedding alternating with raw inserts`,
      );
    }
    for (let start = 0, round = 0; start < measured; start += options.chunk, round++) {
      const end = Math.min(measured, start + options.chunk);
      const began = performance.now();
      if (round % 2 === 0) {
        await pool(end - start, options.concurrency, async (j) => {
          const i = start + j;
          const { memory } = await upsertMemory(deps, systemActor, {
            type: 'fact',
            key: keys[i] as string,
            content: data.texts[i] as string,
          });
          idOf[i] = memory.id;
        });
        while ((await unembedded()) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
        oursMs += performance.now() - began;
        oursCount += end - start;
      } else {
        await pool(end - start, options.concurrency, async (j) => {
          const i = start + j;
          const text = embedText(i);
          const vector = encodeVector(embedder.embedSync(text));
          const row = await sql<{ id: string }>`
            insert into agent_memory (memory_type, key, content, content_text, content_hash, embedding, embedding_model, embedded_at)
            values ('fact', ${keys[i]}, ${JSON.stringify(data.texts[i])}::jsonb, ${text}, 'raw', ${vector}::vector, ${embedder.model}, now())
            returning id
          `.execute(database.db);
          idOf[i] = row.rows[0]?.id as string;
        });
        rawMs += performance.now() - began;
        rawCount += end - start;
      }
      if (round % 4 === 3 || end === measured) {
        progress(
          `  ${end} memories: ours ${((oursCount / oursMs) * 1000).toFixed(0)}/s, raw ${rawCount ? ((rawCount / rawMs) * 1000).toFixed(0) : '-'}/s`,
        );
      }
    }
    // Nothing more to embed: the consumer's polls would only share the connection with the searches.
    await closeConsumer();
    const oursPerSecond = (oursCount / oursMs) * 1000;
    const rawPerSecond = rawCount > 0 ? (rawCount / rawMs) * 1000 : Number.NaN;

    // The rest is loaded in bulk, and the HNSW index built once over everything: an index grown
    // row by row costs several times a build in PGlite.
    let buildSeconds = 0;
    let indexDefinition = '';
    if (measured < size) {
      progress(`bulk-loading ${measured ? 'the other ' : ''}${size - measured} memories without the index`);
      // Built again afterwards exactly as the migrations made it.
      const { rows: definition } = await sql<{ indexdef: string }>`
        select indexdef from pg_indexes where indexname = 'idx_agent_memory_embedding'
      `.execute(database.db);
      indexDefinition = definition[0]?.indexdef ?? '';
      if (!indexDefinition) throw new Error('the migrations made no HNSW index');
      await sql`drop index idx_agent_memory_embedding`.execute(database.db);
      for (let start = measured; start < size; start += 200) {
        const end = Math.min(size, start + 200);
        const rows = [];
        for (let i = start; i < end; i++) {
          const text = embedText(i);
          rows.push(
            sql`('fact', ${keys[i]}, ${JSON.stringify(data.texts[i])}::jsonb, ${text}, 'bulk', ${encodeVector(embedder.embedSync(text))}::vector, ${embedder.model}, now())`,
          );
        }
        const { rows: inserted } = await sql<{ id: string; key: string }>`
          insert into agent_memory (memory_type, key, content, content_text, content_hash, embedding, embedding_model, embedded_at)
          values ${sql.join(rows)}
          returning id, key
        `.execute(database.db);
        for (const row of inserted) idOf[Number(row.key.slice('note.'.length))] = row.id;
      }
      progress(`building the HNSW index over ${size} vectors`);
      const began = performance.now();
      await sql`set maintenance_work_mem = '1GB'`.execute(database.db);
      await sql.raw(indexDefinition).execute(database.db);
      buildSeconds = (performance.now() - began) / 1000;
      progress(`  built in ${buildSeconds.toFixed(1)} s`);
    }
    await sql`analyze agent_memory`.execute(database.db);

    // Sanity: the job embedded exactly the text the brute force below uses.
    const probe = await sql<{ d: number }>`
      select embedding <=> ${encodeVector(embedder.embedSync(embedText(0)))}::vector as d from agent_memory where id = ${idOf[0]}
    `.execute(database.db);
    if (!(Number(probe.rows[0]?.d) < 1e-5))
      throw new Error(`stored vector differs from the bench's (distance ${probe.rows[0]?.d})`);

    // --- Ground truth ------------------------------------------------------------------------------
    progress('exact top-10 by brute force');
    const vectors = data.texts.map((_, i) => embedder.embedSync(embedText(i)));
    const queryVectors = data.queries.map((q) => embedder.embedSync(q));
    const truth = queryVectors.map((q) => exactTopK(q, vectors, 10).map((hit) => idOf[hit.index] as string));

    // --- Searches: raw HNSW (baseline) and ours, interleaved query by query ----------------------
    // The planner would read every row at this size (see memory.search.ts): made to use the index.
    await sql`set enable_seqscan = off`.execute(database.db);
    const rawQuery = async (i: number) => {
      const began = performance.now();
      const { rows } = await sql<{ id: string }>`
        select id from agent_memory order by embedding <=> ${encodeVector(queryVectors[i] as Float32Array)}::vector limit 10
      `.execute(database.db);
      return { ms: performance.now() - began, ids: rows.map((r) => r.id) };
    };
    const search = async (i: number, mode: 'vector' | 'hybrid') => {
      const began = performance.now();
      const result = await searchMemoryRows(deps, systemActor, {
        query: data.queries[i] as string,
        limit: 10,
        mode,
        recordAccess: false,
      });
      if (result.mode !== mode) throw new Error(`searched ${result.mode}, not ${mode}: ${result.notice}`);
      return { ms: performance.now() - began, ids: result.hits.map((h) => h.row.id) };
    };
    progress('warm-up, then raw HNSW and vector search alternating, then hybrid search');
    for (let i = 0; i < Math.min(20, data.queries.length); i++) {
      await rawQuery(i);
      await search(i, 'vector');
    }
    const rawLatencies: number[] = [];
    const rawFound: string[][] = [];
    const oursLatencies: number[] = [];
    const oursFound: string[][] = [];
    for (let i = 0; i < data.queries.length; i++) {
      // Which goes first alternates too, so neither always runs on a warmer cache.
      const order = i % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw'];
      for (const side of order) {
        if (side === 'raw') {
          const { ms, ids } = await rawQuery(i);
          rawLatencies.push(ms);
          rawFound.push(ids);
        } else {
          const { ms, ids } = await search(i, 'vector');
          oursLatencies.push(ms);
          oursFound.push(ids);
        }
      }
    }
    const hybridLatencies: number[] = [];
    for (let i = 0; i < data.queries.length; i++) hybridLatencies.push((await search(i, 'hybrid')).ms);

    rawLatencies.sort((a, b) => a - b);
    oursLatencies.sort((a, b) => a - b);
    hybridLatencies.sort((a, b) => a - b);
    const oursRecall = recallAt(oursFound, truth);
    const rawRecall = recallAt(rawFound, truth);
    progress(`recall@10: ours ${oursRecall.toFixed(3)}, raw HNSW ${rawRecall.toFixed(3)}`);

    const figures: Figure[] = [];
    if (measured > 0) {
      figures.push({
        name: `upserts/s incl. async embedding (${oursCount} rows)`,
        unit: 'req/s',
        ours: oursPerSecond,
        baseline: rawPerSecond,
        higherIsBetter: true,
      });
    }
    const at = `${size.toLocaleString('en-US')} memories`;
    figures.push(
      {
        name: `vector search p50, ${at}`,
        unit: 'ms',
        ours: percentile(oursLatencies, 50),
        baseline: percentile(rawLatencies, 50),
        higherIsBetter: false,
        target: { on: 'ratio', atMost: 2 },
      },
      {
        name: `vector search p99, ${at}`,
        unit: 'ms',
        ours: percentile(oursLatencies, 99),
        baseline: percentile(rawLatencies, 99),
        higherIsBetter: false,
      },
      {
        name: `vector search recall@10 vs brute force, ${at}`,
        unit: 'fraction',
        ours: oursRecall,
        baseline: rawRecall,
        higherIsBetter: true,
        target: { on: 'ours', atLeast: 0.95 },
      },
      {
        name: `hybrid search p50 (vs raw HNSW), ${at}`,
        unit: 'ms',
        ours: percentile(hybridLatencies, 50),
        baseline: percentile(rawLatencies, 50),
        higherIsBetter: false,
      },
      {
        name: `hybrid search p99 (vs raw HNSW), ${at}`,
        unit: 'ms',
        ours: percentile(hybridLatencies, 99),
        baseline: percentile(rawLatencies, 99),
        higherIsBetter: false,
      },
    );
    const settings: string[] = [];
    if (measured > 0) {
      settings.push(
        `write throughput over the first ${measured} memories of the ${size.toLocaleString('en-US')}, in chunks of ${options.chunk}, ours and raw alternating (so both grow the same HNSW index), ${options.concurrency} writes in flight; the embedding job consumes 4 at a time`,
      );
    }
    settings.push(
      `${at}: ${measured ? `the other ${size - measured}` : 'all'} loaded in bulk, then one HNSW build${buildSeconds ? ` of ${buildSeconds.toFixed(0)} s` : ''} (${indexDefinition.replace(/^CREATE INDEX \S+ ON \S+ /, '') || 'as the migrations made it'})`,
    );
    return { figures, settings };
  } finally {
    await closeConsumer();
    await services.access.stop();
    await queue.close();
    await database.close();
  }
}

export async function run(args: string[]): Promise<BenchReport> {
  const options = parseOptions(args);
  const figures: Figure[] = [];
  const perSize: string[] = [];
  for (const [i, size] of options.sizes.entries()) {
    const measured = await measure(options, size, i === 0);
    figures.push(...measured.figures);
    perSize.push(...measured.settings);
  }
  return {
    summary:
      'Memory on PGlite with pgvector, in one process: upserts through `upsertMemory` with the `memory.embed` job embedding them ' +
      'asynchronously (timed until every row is embedded), beside raw single-row INSERTs with the vector computed inline; ' +
      'vector search through `searchMemoryRows` (query embedding, filters, iterative HNSW scan, scoring) beside the raw ' +
      '`order by embedding <=> $1 limit 10` query on the same rows, and recall@10 of both against exact brute force.',
    settings: [
      `text-like memories (Zipf vocabulary of 6,000 words in 150 topics, 12 to 40 words each), embedded by ${new FeatureHashingEmbedder().model} (1536 dimensions); sizes ${options.sizes.map((n) => n.toLocaleString('en-US')).join(', ')}, each on a fresh in-memory PGlite`,
      `${options.queries} queries of 4 to 9 words; 20 warm-up queries each side; one query at a time`,
      ...perSize,
      `our vector search: ef_search by index size (${options.sizes.map((n) => `${efSearchFor(n, options.ef)} at ${n.toLocaleString('en-US')}`).join(', ')}; at least --ef ${options.ef}), iterative scan (relaxed order), the 10 nearest re-ranked by importance and recency (hybrid: 40 from each signal); raw: pgvector defaults (ef_search 40), with seq scans off so the planner takes the index; the two alternate query by query`,
    ],
    figures,
    notes: [
      "recall@10 is the share of the exact top 10 (brute-force cosine over every vector) that a search returns; its baseline column is the raw HNSW query's.",
      'Upsert throughput includes what the raw inserts skip: the version row, the audit row, the job enqueued after commit and the job itself (claim, read, embed, write the vector into the HNSW index).',
      'Hybrid search adds the full-text query (tsvector, any query word) and its ranking to the vector one; it has no target.',
      'PGlite builds an HNSW index over 10,000 of these vectors in about a minute here; `pnpm bench memory --memories 10000,50000` adds the 50,000 run (several minutes more).',
    ],
  };
}
