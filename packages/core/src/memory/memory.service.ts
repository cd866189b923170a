import { hash } from 'node:crypto';
import {
  type ActionData,
  type ActionOutput,
  type Memory,
  type MemoryChange,
  type MemoryType,
  OraError,
} from '@ora/contracts';
import { findVectorType, type MemoryRowUpdate, type NewMemoryRow, type OraDatabase } from '@ora/db';
import { contentToText, type Embedder, humanizeKey } from '@ora/retrieval';
import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import { enqueueJob, jobCatalog } from '../jobs/catalog';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import type { Actor, DbOrTx, Logger } from '../shared/deps';
import { MemoryAccessRecorder } from './access-recorder';
import { seal, slotOf } from './memory.cipher';
import type { MemoryDeps, MemoryServices, WriteOrigin } from './memory.deps';
import {
  MEMORY_COLUMNS,
  type MemoryReader,
  memoryRowToMemory,
  ORA_OWNER,
  openFields,
  type StoredMemory,
  versionRowToVersion,
} from './memory.repository';
import type { MemorySettings } from './memory.settings';

/** Builds the memory services of a process: finds pgvector, starts the access recorder. */
export async function createMemoryServices(options: {
  database: Pick<OraDatabase, 'db' | 'capabilities'>;
  settings: MemorySettings;
  embedder: Embedder;
  log: Logger;
}): Promise<MemoryServices> {
  const vector = options.database.capabilities.vector ? await findVectorType(options.database.db) : null;
  return {
    settings: options.settings,
    embedder: options.embedder,
    vector,
    access: new MemoryAccessRecorder(options.database.db, options.log),
    maintenance: { nextLimitCheckAt: 0 },
    index: { vectors: 0, countedAt: Number.NEGATIVE_INFINITY },
  };
}

/** How rows are read back in this process. */
export function readerOf(memory: Pick<MemoryServices, 'settings' | 'vector'>): MemoryReader {
  return { encryptionKey: memory.settings.encryptionKey, vectors: memory.vector !== null };
}

// ---------------------------------------------------------------------------------------------
// Ownership

/** `coalesce(agent_id, zero)`: the expression the owner indexes are built on. */
export const ownerExpr = sql<string>`coalesce(agent_id, ${ORA_OWNER}::uuid)`;

/** The owner a write or lookup is for: the one asked, else the key's agent, else ORA (null). */
export function resolveOwner(actor: Actor, requested: string | null | undefined): string | null {
  const owner = requested === undefined ? actor.agentId : requested;
  if (actor.agentId && owner !== actor.agentId) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: 'A key bound to an agent reaches only that agent’s memories and conversations',
    });
  }
  return owner;
}

export async function findMemoryRow(
  db: DbOrTx,
  actor: Actor,
  id: string,
  options: { forUpdate?: boolean; includeDeleted?: boolean } = {},
): Promise<StoredMemory> {
  let query = db.selectFrom('agent_memory').select(MEMORY_COLUMNS).where('id', '=', id);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (!options.includeDeleted) query = query.where('deleted_at', 'is', null);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No memory with id ${id}` });
  return row;
}

// ---------------------------------------------------------------------------------------------
// Writes

/** What tells whether a memory's text changed (and must be embedded again): a short SHA-256. */
function contentHash(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

/** The stored form of content and summary: sealed for encrypted types, with the text to index. */
export function storedFields(
  settings: MemorySettings,
  owner: string | null,
  type: MemoryType,
  key: string,
  content: unknown,
  summary: string | null,
): Pick<NewMemoryRow, 'content' | 'summary' | 'content_text' | 'content_hash' | 'is_encrypted'> {
  if (settings.encryptionKey && settings.encryptedTypes.has(type)) {
    const envelope = seal(settings.encryptionKey, { content, summary }, slotOf(owner, type, key));
    // Nothing readable is left for the index or the embedder.
    return {
      content: JSON.stringify(envelope),
      summary: null,
      content_text: null,
      content_hash: null,
      is_encrypted: true,
    };
  }
  const contentText = [humanizeKey(key), contentToText(content)].filter(Boolean).join('\n');
  const embedText = embeddingText(summary, contentText);
  return {
    content: JSON.stringify(content),
    summary,
    content_text: contentText,
    content_hash: embedText ? contentHash(embedText) : null,
    is_encrypted: false,
  };
}

/** What the embedder reads: the summary, then the content's text (the full-text index reads the same). */
export function embeddingText(summary: string | null, contentText: string | null): string {
  return [summary, contentText].filter((part): part is string => Boolean(part)).join('\n');
}

/** Records the state a write left a memory in, and who made it. */
export async function writeVersion(
  trx: DbOrTx,
  rows: readonly StoredMemory[],
  change: MemoryChange,
  actor: Pick<Actor, 'keyId'>,
  origin: WriteOrigin = {},
): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('agent_memory_versions')
    .values(
      rows.map((row) => ({
        memory_id: row.id,
        version: row.version,
        content: JSON.stringify(row.content),
        summary: row.summary,
        importance: Number(row.importance),
        memory_type: row.memory_type,
        key: row.key,
        source: row.source,
        change,
        is_pinned: row.is_pinned,
        is_encrypted: row.is_encrypted,
        is_archived: row.is_archived,
        is_deleted: row.deleted_at !== null,
        expires_at: row.expires_at,
        written_by_run_id: origin.runId ?? null,
        written_by_task_id: origin.taskId ?? null,
        written_by_key_id: actor.keyId,
      })),
    )
    .execute();
}

/** Every write of a synced row takes the next number of the sync sequence and a new version. */
const bump = {
  version: sql<number>`version + 1`,
  server_version: sql<string>`nextval('sync_version_seq')`,
};

/** Updates rows as one write each (version, sync position, history), returning their new state. */
export async function updateMemoryRows(
  trx: DbOrTx,
  ids: readonly string[],
  set: MemoryRowUpdate,
  change: MemoryChange,
  actor: Pick<Actor, 'keyId'>,
  origin: WriteOrigin = {},
): Promise<StoredMemory[]> {
  if (ids.length === 0) return [];
  const rows = await trx
    .updateTable('agent_memory')
    .set({ ...set, ...bump, updated_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .returning(MEMORY_COLUMNS)
    .execute();
  await writeVersion(trx, rows, change, actor, origin);
  return rows;
}

/** Enqueues embedding for rows whose text changed; a lost enqueue is left to the maintenance sweep. */
export async function enqueueEmbedding(
  deps: Pick<MemoryDeps, 'queue' | 'log' | 'memory'>,
  rows: ReadonlyArray<Pick<StoredMemory, 'id' | 'content_hash' | 'embedded_at'>>,
): Promise<void> {
  const pending = rows.filter((r) => r.content_hash !== null && r.embedded_at === null);
  // Without pgvector there is nowhere to keep a vector: search is full-text only.
  if (!deps.queue || !deps.memory.vector || pending.length === 0) return;
  try {
    if (pending.length === 1) {
      const id = (pending[0] as { id: string }).id;
      await enqueueJob(deps.queue, 'memory.embed', { memoryIds: [id] }, { jobId: `memory.embed:${id}` });
    } else {
      const entry = jobCatalog['memory.embed'];
      await deps.queue.enqueueMany(
        entry.queue,
        pending.map((r) => ({
          name: 'memory.embed',
          payload: { memoryIds: [r.id] },
          options: { ...entry.options, jobId: `memory.embed:${r.id}` },
        })),
      );
    }
  } catch (error) {
    deps.log.warn({ err: error, memories: pending.length }, 'could not enqueue memory embedding; the sweep will');
  }
}

async function assertOrigin(db: DbOrTx, actor: Actor, origin: WriteOrigin): Promise<void> {
  if (origin.taskId) {
    let query = db.selectFrom('agent_tasks').select('id').where('id', '=', origin.taskId);
    if (actor.agentId) query = query.where('assigned_to', '=', actor.agentId);
    if (!(await query.executeTakeFirst())) {
      throw new OraError({ code: 'VALIDATION_ERROR', message: `No task with id ${origin.taskId}` });
    }
  }
  if (origin.runId) {
    let query = db.selectFrom('agent_runs').select('id').where('id', '=', origin.runId);
    if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
    if (!(await query.executeTakeFirst())) {
      throw new OraError({ code: 'VALIDATION_ERROR', message: `No agent run with id ${origin.runId}` });
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}
function isMissingAgent(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  return e?.code === '23503' && /agent/.test(e.message ?? '');
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

type UpsertInput = ActionData<'memory.upsert'>;

/**
 * Writes the memory of (agent, type, key): creates it, or updates it as its next version. The
 * write returns at once; embedding follows in a job. A write that changes nothing adds no version.
 * `origin` names the run or task writing (the agent runtime's own writes; the API takes them
 * from the input).
 */
export async function upsertMemory(
  deps: MemoryDeps,
  actor: Actor,
  input: UpsertInput,
  origin: WriteOrigin = { runId: input.runId, taskId: input.taskId },
): Promise<ActionOutput<'memory.upsert'>> {
  const owner = resolveOwner(actor, input.agentId);
  const settings = deps.memory.settings;
  const now = deps.clock.now();
  const expiresAt =
    input.ttlSeconds !== undefined
      ? new Date(now.getTime() + input.ttlSeconds * 1000)
      : input.expiresAt === undefined
        ? undefined
        : input.expiresAt === null
          ? null
          : new Date(input.expiresAt);
  const forcedOff = settings.noSyncTypes.has(input.type);

  for (let attempt = 1; ; attempt++) {
    try {
      const result = await deps.db.transaction().execute(async (trx) => {
        await assertOrigin(trx, actor, origin);
        const current = await trx
          .selectFrom('agent_memory')
          .select(MEMORY_COLUMNS)
          .where(ownerExpr, '=', owner ?? ORA_OWNER)
          .where('memory_type', '=', input.type)
          .where('key', '=', input.key)
          .where('is_archived', '=', false)
          .forUpdate()
          .executeTakeFirst();
        if (input.expectedVersion !== undefined && input.expectedVersion !== (current?.version ?? 0)) {
          throw new OraError({
            code: 'CONFLICT',
            message: `Memory ${input.type}/${input.key} is at version ${current?.version ?? 0}, not ${input.expectedVersion}`,
            details: { currentVersion: current?.version ?? 0, id: current?.id ?? null },
          });
        }

        const previous = current ? openFields(current, settings.encryptionKey) : null;
        const summary = input.summary === undefined ? (previous?.summary ?? null) : input.summary;
        const importance = input.importance ?? (current ? Number(current.importance) : 0.5);
        const pinned = input.pinned ?? current?.is_pinned ?? false;
        const expires = expiresAt === undefined ? (current?.expires_at ?? null) : expiresAt;
        const syncEnabled = forcedOff ? false : (input.sync ?? current?.sync_enabled ?? true);
        const source = input.source ?? 'server';

        if (
          current &&
          previous &&
          current.deleted_at === null &&
          sameJson(previous.content, input.content) &&
          previous.summary === summary &&
          Number(current.importance) === importance &&
          current.is_pinned === pinned &&
          (current.expires_at?.getTime() ?? null) === (expires?.getTime() ?? null) &&
          current.sync_enabled === syncEnabled &&
          current.is_encrypted === (settings.encryptionKey !== null && settings.encryptedTypes.has(input.type))
        ) {
          return { row: current, created: false, changed: false };
        }

        const fields = storedFields(settings, owner, input.type, input.key, input.content, summary);
        const common = {
          ...fields,
          importance,
          is_pinned: pinned,
          expires_at: expires,
          sync_enabled: syncEnabled,
          source,
        };
        let row: StoredMemory;
        if (current) {
          const textChanged = fields.content_hash !== current.content_hash;
          [row] = (await updateMemoryRows(
            trx,
            [current.id],
            {
              ...common,
              deleted_at: null,
              // The old vector stays searchable until the job replaces it.
              ...(textChanged || fields.is_encrypted ? { embedded_at: null, embedding_failed_at: null } : {}),
              ...(fields.is_encrypted ? { embedding_model: null } : {}),
              ...(fields.is_encrypted && deps.memory.vector ? { embedding: null } : {}),
            },
            'update',
            actor,
            origin,
          )) as [StoredMemory];
        } else {
          row = await trx
            .insertInto('agent_memory')
            .values({
              ...common,
              agent_id: owner,
              memory_type: input.type,
              key: input.key,
              created_by_key_id: actor.keyId,
              created_by_run_id: origin.runId ?? null,
              created_by_task_id: origin.taskId ?? null,
            })
            .returning(MEMORY_COLUMNS)
            .executeTakeFirstOrThrow();
          await writeVersion(trx, [row], 'insert', actor, origin);
        }
        await recordAudit(trx, actor, {
          action: 'memory.upsert',
          targetType: 'memory',
          targetId: row.id,
          details: { type: input.type, key: input.key, version: row.version, created: !current },
        });
        return { row, created: !current, changed: true };
      });
      if (result.changed) await enqueueEmbedding(deps, [result.row]);
      return {
        memory: memoryRowToMemory(result.row, readerOf(deps.memory), now),
        created: result.created,
        changed: result.changed,
      };
    } catch (error) {
      // Two writers created the same memory at once: the loser updates the winner's row.
      if (isUniqueViolation(error) && attempt < 3) continue;
      if (isMissingAgent(error)) {
        throw new OraError({ code: 'VALIDATION_ERROR', message: `No agent with id ${owner}` });
      }
      throw error;
    }
  }
}

export async function getMemory(
  deps: Pick<MemoryDeps, 'db' | 'clock' | 'memory'>,
  actor: Actor,
  input: ActionData<'memory.get'>,
): Promise<Memory> {
  const now = deps.clock.now();
  if ('id' in input) {
    const row = await findMemoryRow(deps.db, actor, input.id);
    return memoryRowToMemory(row, readerOf(deps.memory), now);
  }
  const owner = resolveOwner(actor, input.agentId);
  const row = await deps.db
    .selectFrom('agent_memory')
    .select(MEMORY_COLUMNS)
    .where(ownerExpr, '=', owner ?? ORA_OWNER)
    .where('memory_type', '=', input.type)
    .where('key', '=', input.key)
    .where('is_archived', '=', false)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No live memory ${input.type}/${input.key}` });
  return memoryRowToMemory(row, readerOf(deps.memory), now);
}

export async function listMemories(
  deps: Pick<MemoryDeps, 'db' | 'clock' | 'memory'>,
  actor: Actor,
  input: ActionData<'memory.list'>,
): Promise<ActionOutput<'memory.list'>> {
  const now = deps.clock.now();
  let query = deps.db
    .selectFrom('agent_memory')
    .select(MEMORY_COLUMNS)
    .where('deleted_at', 'is', null)
    .where('is_archived', '=', input.archived)
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (input.agentId !== undefined) query = query.where(ownerExpr, '=', resolveOwner(actor, input.agentId) ?? ORA_OWNER);
  if (input.type !== undefined)
    query = query.where('memory_type', 'in', Array.isArray(input.type) ? input.type : [input.type]);
  if (input.minImportance !== undefined) query = query.where('importance', '>=', input.minImportance);
  if (input.maxImportance !== undefined) query = query.where('importance', '<=', input.maxImportance);
  if (input.source !== undefined) query = query.where('source', '=', input.source);
  if (input.pinned !== undefined) query = query.where('is_pinned', '=', input.pinned);
  if (input.keyPrefix) query = query.where(sql<boolean>`starts_with(key, ${input.keyPrefix})`);
  if (!input.archived) {
    query = input.expired
      ? query.where('expires_at', '<=', now)
      : query.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  }
  if (input.cursor) {
    const [updatedAt, id] = decodeCursor(input.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    query = query.where((eb) => eb(eb.refTuple('updated_at', 'id'), '<', eb.tuple(new Date(updatedAt), id)));
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: items.map((row) => memoryRowToMemory(row, readerOf(deps.memory), now)),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.updated_at.toISOString(), last.id]) : null,
  };
}

export async function archiveMemory(
  deps: MemoryDeps,
  actor: Actor,
  input: ActionData<'memory.archive'>,
  origin: WriteOrigin = { runId: input.runId, taskId: input.taskId },
): Promise<Memory> {
  try {
    const row = await deps.db.transaction().execute(async (trx) => {
      await assertOrigin(trx, actor, origin);
      const current = await findMemoryRow(trx, actor, input.id, { forUpdate: true });
      if (current.is_archived === input.archived) return current;
      const [updated] = await updateMemoryRows(
        trx,
        [current.id],
        { is_archived: input.archived },
        input.archived ? 'archive' : 'update',
        actor,
        origin,
      );
      await recordAudit(trx, actor, {
        action: 'memory.archive',
        targetType: 'memory',
        targetId: current.id,
        details: { archived: input.archived },
      });
      return updated as StoredMemory;
    });
    return memoryRowToMemory(row, readerOf(deps.memory), deps.clock.now());
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new OraError({
        code: 'CONFLICT',
        message: 'Another live memory has this agent, type and key: archive or rename it first',
      });
    }
    throw error;
  }
}

export async function deleteMemory(
  deps: MemoryDeps,
  actor: Actor,
  input: ActionData<'memory.delete'>,
  origin: WriteOrigin = { runId: input.runId, taskId: input.taskId },
): Promise<ActionOutput<'memory.delete'>> {
  const row = await deps.db.transaction().execute(async (trx) => {
    await assertOrigin(trx, actor, origin);
    const current = await findMemoryRow(trx, actor, input.id, { forUpdate: true });
    // A tombstone: the row stays, so a sync pull reports the delete; its versions stay too.
    const [deleted] = await updateMemoryRows(
      trx,
      [current.id],
      { deleted_at: deps.clock.now() },
      'delete',
      actor,
      origin,
    );
    await recordAudit(trx, actor, {
      action: 'memory.delete',
      targetType: 'memory',
      targetId: current.id,
      details: { type: current.memory_type, key: current.key },
    });
    return deleted as StoredMemory;
  });
  return { id: row.id, deleted: true, version: row.version };
}

export async function memoryHistory(
  deps: Pick<MemoryDeps, 'db' | 'memory'>,
  actor: Actor,
  input: ActionData<'memory.history'>,
): Promise<ActionOutput<'memory.history'>> {
  const memory = await findMemoryRow(deps.db, actor, input.id, { includeDeleted: true });
  let query = deps.db
    .selectFrom('agent_memory_versions')
    .selectAll()
    .where('memory_id', '=', memory.id)
    .orderBy('version', 'desc')
    .limit(input.limit + 1);
  if (input.cursor) {
    const [version] = decodeCursor(input.cursor, z.tuple([z.number().int()]));
    query = query.where('version', '<', version);
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: items.map((row) => versionRowToVersion(row, memory.agent_id, deps.memory.settings.encryptionKey)),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.version]) : null,
  };
}

/**
 * Undoes every memory write of one run (or task). Each memory it touched goes back to its state
 * before the run's first write to it; one the run created is archived (never deleted). A memory
 * someone else changed after the run is left alone and reported, unless `force`. Every undo is
 * a new version (change `revert`), so a revert can itself be looked at and undone.
 */
export async function revertMemoryWrites(
  deps: MemoryDeps,
  actor: Actor,
  input: ActionData<'memory.revert'>,
): Promise<ActionOutput<'memory.revert'>> {
  const byRun = input.runId !== undefined;
  const originId = (input.runId ?? input.taskId) as string;
  const column = byRun ? 'written_by_run_id' : 'written_by_task_id';
  const result = await deps.db.transaction().execute(async (trx) => {
    const touched = await trx
      .selectFrom('agent_memory_versions')
      .select('memory_id')
      .distinct()
      .where(column, '=', originId)
      .execute();
    const reverted: ActionOutput<'memory.revert'>['reverted'] = [];
    const skipped: ActionOutput<'memory.revert'>['skipped'] = [];
    const changedRows: StoredMemory[] = [];
    for (const { memory_id: memoryId } of touched) {
      let query = trx.selectFrom('agent_memory').select(MEMORY_COLUMNS).where('id', '=', memoryId).forUpdate();
      if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
      const current = await query.executeTakeFirst();
      if (!current) continue; // another agent's memory: not this key's to see or revert
      const versions = await trx
        .selectFrom('agent_memory_versions')
        .selectAll()
        .where('memory_id', '=', memoryId)
        .orderBy('version', 'asc')
        .execute();
      const mine = versions.filter((v) => v[column] === originId);
      const first = (mine[0] as (typeof versions)[number]).version;
      const last = (mine.at(-1) as (typeof versions)[number]).version;
      const later = versions.filter((v) => v.version > last);
      const foreign = later.find((v) => v.change !== 'revert');
      if (later.length > 0 && !foreign) {
        skipped.push({ memoryId, reason: 'already reverted' });
        continue;
      }
      if (foreign && !input.force) {
        skipped.push({
          memoryId,
          reason: `changed after the ${byRun ? 'run' : 'task'} (version ${foreign.version}); pass force to overwrite`,
        });
        continue;
      }
      const target = versions.filter((v) => v.version < first).at(-1);
      if (!target) {
        // The run created it: archive rather than delete, so nothing is lost.
        if (current.is_archived || current.deleted_at) {
          skipped.push({ memoryId, reason: 'already archived or deleted' });
          continue;
        }
        const [row] = await updateMemoryRows(trx, [memoryId], { is_archived: true }, 'revert', actor);
        changedRows.push(row as StoredMemory);
        reverted.push({ memoryId, action: 'archived', toVersion: 0, newVersion: (row as StoredMemory).version });
        continue;
      }
      const encrypted = target.is_encrypted;
      const restored: MemoryRowUpdate = {
        content: JSON.stringify(target.content),
        summary: target.summary,
        importance: Number(target.importance),
        is_pinned: target.is_pinned,
        expires_at: target.expires_at,
        is_archived: target.is_archived,
        is_encrypted: encrypted,
        deleted_at: target.is_deleted ? (current.deleted_at ?? deps.clock.now()) : null,
      };
      if (!encrypted) {
        const contentText = [humanizeKey(target.key), contentToText(target.content)].filter(Boolean).join('\n');
        const text = embeddingText(target.summary, contentText);
        const restoredHash = text ? contentHash(text) : null;
        restored.content_text = contentText;
        if (restoredHash !== current.content_hash) {
          Object.assign(restored, { content_hash: restoredHash, embedded_at: null });
        }
      } else {
        Object.assign(restored, { content_text: null, content_hash: null, embedded_at: null });
      }
      try {
        await sql`savepoint ora_revert`.execute(trx);
        const [row] = await updateMemoryRows(trx, [memoryId], restored, 'revert', actor);
        await sql`release savepoint ora_revert`.execute(trx);
        changedRows.push(row as StoredMemory);
        reverted.push({
          memoryId,
          action: 'restored',
          toVersion: target.version,
          newVersion: (row as StoredMemory).version,
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        await sql`rollback to savepoint ora_revert`.execute(trx);
        skipped.push({ memoryId, reason: 'another live memory now has its agent, type and key' });
      }
    }
    await recordAudit(trx, actor, {
      action: 'memory.revert',
      targetType: byRun ? 'agent_run' : 'task',
      targetId: originId,
      details: { reverted: reverted.length, skipped: skipped.length },
    });
    return { reverted, skipped, changedRows };
  });
  await enqueueEmbedding(deps, result.changedRows);
  return { reverted: result.reverted, skipped: result.skipped };
}
