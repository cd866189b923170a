import { encodeVector } from '@ora/db';
import { isZeroVector } from '@ora/retrieval';
import { sql } from 'kysely';
import { jobCatalog } from '../jobs/catalog';
import { NonRetryableJobError } from '../queue/queue-driver';
import type { MemoryDeps } from './memory.deps';
import { embeddingText } from './memory.service';

export interface EmbedReport {
  embedded: number;
  /** Rows that had nothing to embed any more (deleted, encrypted, already embedded by this model). */
  skipped: number;
}

/**
 * The `memory.embed` job: embeds the given memories' current text with the configured embedder
 * and records the model. Idempotent: a row already embedded by this model is skipped, and a vector
 * is only stored while the row still has the text it was computed from (a write in between
 * changes the hash, and that row is embedded again, here or by its own job).
 */
export async function embedMemories(
  deps: Pick<MemoryDeps, 'db' | 'log' | 'memory'>,
  memoryIds: readonly string[],
  signal?: AbortSignal,
): Promise<EmbedReport> {
  const { embedder, vector } = deps.memory;
  const report: EmbedReport = { embedded: 0, skipped: 0 };
  if (!vector) return report;
  const vectorType = sql.raw(`${quoteIdent(vector.schema)}.vector`);
  let ids = [...new Set(memoryIds)];
  for (let round = 0; round < 3 && ids.length > 0 && !signal?.aborted; round++) {
    const rows = await deps.db
      .selectFrom('agent_memory')
      .select([
        'id',
        'summary',
        'content_text',
        'content_hash',
        'embedded_at',
        'embedding_model',
        'is_encrypted',
        'deleted_at',
      ])
      .where('id', 'in', ids)
      .execute();
    const todo = rows.filter(
      (r) =>
        !r.is_encrypted &&
        r.deleted_at === null &&
        r.content_hash !== null &&
        (r.embedded_at === null || r.embedding_model !== embedder.model),
    );
    if (round === 0) report.skipped += ids.length - todo.length;
    if (todo.length === 0) break;

    let vectors: Float32Array[];
    try {
      vectors = await embedder.embed(todo.map((r) => embeddingText(r.summary, r.content_text)));
    } catch (error) {
      await deps.db
        .updateTable('agent_memory')
        .set({
          embedding_error: String((error as Error).message).slice(0, 1000),
          embedding_failed_at: sql<Date>`now()`,
        })
        .where(
          'id',
          'in',
          todo.map((r) => r.id),
        )
        .execute();
      throw error instanceof NonRetryableJobError
        ? error
        : new Error(`embedding failed: ${(error as Error).message}`, { cause: error });
    }

    const values = todo.map((row, i) => {
      const v = vectors[i] as Float32Array;
      // A text without words has no direction: it is "embedded" with no vector.
      const param = isZeroVector(v) ? null : encodeVector(v);
      return sql`(${row.id}::uuid, ${row.content_hash}::text, ${param}::${vectorType})`;
    });
    const updated = await sql<{ id: string }>`
      update agent_memory m
      set embedding = v.e, embedding_model = ${embedder.model}, embedded_at = now(),
          embedding_error = null, embedding_failed_at = null
      from (values ${sql.join(values)}) as v (id, hash, e)
      where m.id = v.id and m.content_hash = v.hash and m.deleted_at is null
      returning m.id
    `.execute(deps.db);
    report.embedded += updated.rows.length;
    const done = new Set(updated.rows.map((r) => r.id));
    // The rest changed while being embedded: once more with their new text.
    ids = todo.filter((r) => !done.has(r.id)).map((r) => r.id);
  }
  return report;
}

/**
 * Hands the embedding job the rows it should have had: live rows whose current text has no
 * vector (a lost job, a failed attempt past its back-off) and rows embedded by another model than
 * the configured one. Both lookups run on partial indexes, so an idle pass costs two index probes.
 */
export async function sweepEmbeddings(deps: Pick<MemoryDeps, 'db' | 'log' | 'memory' | 'queue'>): Promise<number> {
  const { settings, embedder, vector } = deps.memory;
  if (!vector || !deps.queue) return 0;
  const graceSeconds = settings.embedSweepGraceMs / 1000;
  const retrySeconds = settings.embedRetryAfterMs / 1000;
  const { rows } = await sql<{ id: string }>`
    (select id from agent_memory
     where embedded_at is null and deleted_at is null and is_encrypted = false and content_hash is not null
       and updated_at < now() - ${graceSeconds}::double precision * interval '1 second'
       and (embedding_failed_at is null
            or embedding_failed_at < now() - ${retrySeconds}::double precision * interval '1 second')
     order by updated_at limit ${settings.embedSweepBatch})
    union
    (select id from agent_memory
     where embedded_at is not null and deleted_at is null
       and (embedding_model < ${embedder.model} or embedding_model > ${embedder.model})
       and (embedding_failed_at is null
            or embedding_failed_at < now() - ${retrySeconds}::double precision * interval '1 second')
     limit ${settings.embedSweepBatch})
  `.execute(deps.db);
  if (rows.length === 0) return 0;
  const entry = jobCatalog['memory.embed'];
  await deps.queue.enqueueMany(
    entry.queue,
    rows.map((r) => ({
      name: 'memory.embed',
      payload: { memoryIds: [r.id] },
      options: { ...entry.options, jobId: `memory.embed:${r.id}` },
    })),
  );
  return rows.length;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
