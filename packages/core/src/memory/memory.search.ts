import type { ActionData, MemoryType, ScoreBreakdown, SearchMode } from '@ora/contracts';
import type { Database } from '@ora/db';
import { encodeVector } from '@ora/db';
import { isZeroVector, normalizedWeights, rankCandidates } from '@ora/retrieval';
import { type SelectQueryBuilder, sql } from 'kysely';
import type { Actor } from '../shared/deps';
import type { MemoryDeps } from './memory.deps';
import { type MemoryView, memoryRowToMemory, ORA_OWNER, VIEW_COLUMNS } from './memory.repository';
import { ownerExpr, readerOf, resolveOwner } from './memory.service';

/**
 * pgvector's ef_search for an index of `vectors` rows. HNSW recall at a fixed ef_search falls as
 * the index grows; on text-like embeddings (bench/memory.bench.ts, m 16, ef_construction 128)
 * recall@10 is about 0.97 at 10,000 vectors with 40, and at 50,000 about 0.94 with 64 but 0.96
 * with 80.
 */
export function efSearchFor(vectors: number, floor: number): number {
  return Math.max(floor, vectors <= 20_000 ? 40 : vectors <= 100_000 ? 80 : 120);
}

const INDEX_RECOUNT_MS = 60_000;

export interface MemorySearchParams {
  query: string;
  agentId?: string | null | undefined;
  types?: readonly MemoryType[] | undefined;
  minImportance?: number | undefined;
  limit: number;
  mode?: 'auto' | SearchMode;
  includeArchived?: boolean;
  /** Count the hits as accesses (default true; the context builder counts only what it used). */
  recordAccess?: boolean;
  /** Candidates taken from each signal before scoring: default max(4 × limit, 40) in hybrid search, else `limit`; at most 400. */
  candidates?: number;
}

export interface ScoredMemoryRow {
  row: MemoryView;
  score: ScoreBreakdown;
}

export interface MemorySearchResult {
  mode: SearchMode;
  notice: string | null;
  embeddingModel: string | null;
  hits: ScoredMemoryRow[];
}

interface Candidate {
  row: MemoryView;
  text_rank: number | null;
  vector_similarity: number | null;
}

const DATE_COLUMNS = new Set<string>(['last_accessed_at', 'embedded_at', 'expires_at', 'created_at', 'updated_at']);

/**
 * A row's columns as one JSON array: the driver then parses one field per row instead of 25,
 * which is about a millisecond of a 10-hit search in PGlite.
 */
function packedView(alias?: string) {
  const ref = (column: string) => sql.ref(alias ? `${alias}.${column}` : column);
  return sql<unknown[]>`json_build_array(${sql.join(
    VIEW_COLUMNS.map((c) => (c === 'server_version' ? sql`${ref(c)}::text` : ref(c))),
  )})`;
}

function unpackView(values: unknown[]): MemoryView {
  const row: Record<string, unknown> = {};
  VIEW_COLUMNS.forEach((column, i) => {
    const value = values[i] ?? null;
    row[column] = value !== null && DATE_COLUMNS.has(column) ? new Date(value as string) : value;
  });
  return row as unknown as MemoryView;
}

/**
 * Ranks memories for a query. Hybrid where pgvector is installed: the best full-text matches
 * (Postgres tsvector, any query word) and the nearest embeddings (HNSW, cosine) are pooled, each
 * candidate gets both signals, and the final score adds importance, recency and access frequency
 * (weights from config). Full-text alone where pgvector is not installed; the answer says which.
 */
export async function searchMemoryRows(
  deps: Pick<MemoryDeps, 'db' | 'clock' | 'log' | 'memory'>,
  actor: Actor,
  params: MemorySearchParams,
): Promise<MemorySearchResult> {
  const { settings, embedder, vector } = deps.memory;
  const now = deps.clock.now();
  const asked = params.mode ?? 'auto';
  let notice: string | null = null;
  let queryVector: Float32Array | null = null;
  const wantVector = asked !== 'fulltext';
  if (wantVector && !vector) {
    notice = 'pgvector is not installed in this database: full-text search only';
  } else if (wantVector) {
    try {
      const [embedded] = await embedder.embed([params.query]);
      if (embedded && !isZeroVector(embedded)) queryVector = embedded;
      else notice = 'the query has no words to embed: full-text search only';
    } catch (error) {
      deps.log.warn({ err: error }, 'could not embed a search query; searching full-text only');
      notice = `the query could not be embedded (${(error as Error).message}): full-text search only`;
    }
  }
  const useVector = queryVector !== null;
  const useText = asked !== 'vector' || !useVector;
  // Candidates per signal: in hybrid search enough for the two lists to overlap and for importance
  // and recency to re-rank; one signal alone re-ranks its own best `limit`.
  const k = Math.min(400, params.candidates ?? (useVector && useText ? Math.max(params.limit * 4, 40) : params.limit));

  const owner = params.agentId === undefined ? undefined : resolveOwner(actor, params.agentId);
  const filtered = <O>(query: SelectQueryBuilder<Database, 'agent_memory', O>) => {
    let q = query
      .where('deleted_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    if (!params.includeArchived) q = q.where('is_archived', '=', false);
    if (actor.agentId) q = q.where('agent_id', '=', actor.agentId);
    if (owner !== undefined) q = q.where(ownerExpr, '=', owner ?? ORA_OWNER);
    if (params.types?.length) q = q.where('memory_type', 'in', [...params.types]);
    if (params.minImportance !== undefined) q = q.where('importance', '>=', params.minImportance);
    return q;
  };

  const param = queryVector ? encodeVector(queryVector) : null;
  const distance =
    vector && param
      ? sql<number>`embedding <=> ${param}::${sql.raw(`"${vector.schema.replaceAll('"', '""')}".vector`)}`
      : sql<number>`null::float8`;
  const similarity = (table: string) =>
    useVector
      ? sql<number | null>`case when ${sql.ref(`${table}.embedding_model`)} = ${embedder.model}
          then 1 - (${sql.ref(`${table}.embedding`)} <=> ${param}::${sql.raw(`"${vector?.schema.replaceAll('"', '""')}".vector`)}) end`
      : sql<number | null>`null::float8`;

  const { candidates, textSearched } = await deps.db.transaction().execute(async (trx) => {
    const found = new Map<string, Candidate>();
    // Any query word matches (plainto_tsquery's AND turned into OR): parsed once, then passed
    // to the queries as a constant, so it is not parsed again for every row.
    let tsquery: string | null = null;
    if (useText) {
      const parsed = await sql<{ q: string }>`
        select replace(plainto_tsquery('english', ${params.query})::text, '&', '|') as q
      `.execute(trx);
      tsquery = parsed.rows[0]?.q || null;
    }
    const textRank = tsquery ? sql<number>`ts_rank(search, ${tsquery}::tsquery)` : sql<number | null>`null::float4`;
    if (tsquery) {
      // Ranked on the narrow index-fed rows first; whole rows (and vector similarity) for the best k only.
      const best = filtered(trx.selectFrom('agent_memory'))
        .select(['id', textRank.as('text_rank')])
        .where(sql<boolean>`search @@ ${tsquery}::tsquery`)
        .orderBy('text_rank', 'desc')
        .limit(k)
        .as('t');
      const rows = await trx
        .selectFrom(best)
        .innerJoin('agent_memory as m', 'm.id', 't.id')
        .select([packedView('m').as('r'), 't.text_rank', similarity('m').as('vector_similarity')])
        .execute();
      for (const { r, text_rank, vector_similarity } of rows) {
        const row = unpackView(r);
        found.set(row.id, { row, text_rank, vector_similarity });
      }
    }
    if (useVector) {
      // For this query only (set_config(..., true) is transaction-local, one round trip): the
      // configured candidate list (ef_search: recall against time); iterative scans, so the filters above
      // cannot leave the index short of k rows; and the HNSW index even where the planner would
      // rather read every row (it prices neither detoasting 6 KB vectors nor 1536-dim distances,
      // so around 10,000 rows it picks an exact scan ten times slower than the index).
      const index = deps.memory.index;
      if (now.getTime() - index.countedAt > INDEX_RECOUNT_MS) {
        const counted = await trx
          .selectFrom('agent_memory')
          .select(sql<string>`count(*)`.as('n'))
          .where('embedded_at', 'is not', null)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        index.vectors = Number(counted?.n ?? 0);
        index.countedAt = now.getTime();
      }
      const ef = Math.max(efSearchFor(index.vectors, settings.efSearch), k);
      await sql`
        select set_config('hnsw.ef_search', ${String(ef)}, true),
               set_config('hnsw.iterative_scan', 'relaxed_order', true),
               set_config('enable_seqscan', 'off', true),
               set_config('enable_sort', 'off', true)
      `.execute(trx);
      const rows = await filtered(trx.selectFrom('agent_memory'))
        .select([
          packedView().as('r'),
          textRank.as('text_rank'),
          sql<number>`1 - (${distance})`.as('vector_similarity'),
        ])
        .where('embedding', 'is not', null)
        .where('embedding_model', '=', embedder.model)
        .where('is_encrypted', '=', false)
        .orderBy(distance)
        .limit(k)
        .execute();
      for (const { r, text_rank, vector_similarity } of rows) {
        const row = unpackView(r);
        if (!found.has(row.id)) found.set(row.id, { row, text_rank, vector_similarity });
      }
    }
    return { candidates: [...found.values()], textSearched: tsquery !== null };
  });
  if (useText && !textSearched) {
    notice = 'the query has no words the full-text index knows (only stop words or symbols)';
  }
  const mode: SearchMode = useVector && textSearched ? 'hybrid' : useVector ? 'vector' : 'fulltext';

  const ranked = rankCandidates(
    candidates.map((c) => ({
      row: c.row,
      textRank: c.text_rank === null ? null : Number(c.text_rank),
      vectorSimilarity: c.vector_similarity === null ? null : Number(c.vector_similarity),
      importance: Number(c.row.importance),
      accessCount: c.row.access_count,
      lastUsedAt: c.row.last_accessed_at ?? c.row.updated_at,
    })),
    settings.scoring,
    now,
  ).slice(0, params.limit);

  const hits = ranked.map(({ candidate, score }) => ({ row: candidate.row, score }));
  if (params.recordAccess !== false && hits.length > 0) {
    deps.memory.access.record(
      hits.map((h) => h.row.id),
      now,
    );
  }
  return { mode, notice, embeddingModel: useVector ? embedder.model : null, hits };
}

/** `memory.search`. */
export async function searchMemories(
  deps: Pick<MemoryDeps, 'db' | 'clock' | 'log' | 'memory'>,
  actor: Actor,
  input: ActionData<'memory.search'>,
) {
  const result = await searchMemoryRows(deps, actor, input);
  const now = deps.clock.now();
  const reader = readerOf(deps.memory);
  return {
    mode: result.mode,
    notice: result.notice,
    embeddingModel: result.embeddingModel,
    weights: normalizedWeights(deps.memory.settings.scoring.weights),
    hits: result.hits.map((h) => ({ memory: memoryRowToMemory(h.row, reader, now), score: h.score })),
  };
}
