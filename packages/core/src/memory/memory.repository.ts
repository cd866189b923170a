import type { Memory, MemoryVersion } from '@ora/contracts';
import type { MemoryRow, MemoryVersionRow } from '@ora/db';
import { isEnvelope, type SealedFields, slotOf, unseal } from './memory.cipher';

/**
 * Every column of agent_memory but the generated tsvector and the embedding: reading a 1536-float
 * vector back as text costs far more than the rest of the row.
 */
export const MEMORY_COLUMNS = [
  'id',
  'agent_id',
  'memory_type',
  'key',
  'content',
  'summary',
  'content_text',
  'importance',
  'access_count',
  'last_accessed_at',
  'is_pinned',
  'is_encrypted',
  'embedding_model',
  'embedded_at',
  'content_hash',
  'embedding_error',
  'embedding_failed_at',
  'source',
  'sync_id',
  'synced_at',
  'is_dirty',
  'sync_enabled',
  'version',
  'server_version',
  'expires_at',
  'is_archived',
  'deleted_at',
  'created_by_run_id',
  'created_by_task_id',
  'created_by_key_id',
  'created_at',
  'updated_at',
] as const;

/** A memory row as core reads it (no tsvector, no embedding). */
export type StoredMemory = Pick<MemoryRow, (typeof MEMORY_COLUMNS)[number]>;

/**
 * What answering a reader takes (search hits): no indexed text copy, no sync or embedding
 * bookkeeping. Fewer columns to read and parse on the hot path.
 */
export const VIEW_COLUMNS = [
  'id',
  'agent_id',
  'memory_type',
  'key',
  'content',
  'summary',
  'importance',
  'access_count',
  'last_accessed_at',
  'is_pinned',
  'is_encrypted',
  'embedding_model',
  'embedded_at',
  'content_hash',
  'source',
  'sync_enabled',
  'version',
  'server_version',
  'expires_at',
  'is_archived',
  'created_by_run_id',
  'created_by_task_id',
  'created_by_key_id',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<(typeof MEMORY_COLUMNS)[number]>;
export type MemoryView = Pick<MemoryRow, (typeof VIEW_COLUMNS)[number]>;

/** Stands for ORA's own memory (agent_id null) in the owner indexes, which coalesce to it. */
export const ORA_OWNER = '00000000-0000-0000-0000-000000000000';

/** Content and summary as the reader sees them, decrypted when stored encrypted. */
export function openFields(
  row: Pick<StoredMemory, 'id' | 'agent_id' | 'memory_type' | 'key' | 'content' | 'summary' | 'is_encrypted'>,
  key: Buffer | null,
): SealedFields {
  if (row.is_encrypted && isEnvelope(row.content)) {
    return unseal(key, row.content, slotOf(row.agent_id, row.memory_type, row.key), row.id);
  }
  return { content: row.content, summary: row.summary };
}

/** What mapping needs to know of this process: the key to decrypt, and whether vectors are kept. */
export interface MemoryReader {
  encryptionKey: Buffer | null;
  vectors: boolean;
}

export function memoryRowToMemory(row: MemoryView, reader: MemoryReader, now: Date): Memory {
  const fields = openFields(row, reader.encryptionKey);
  return {
    id: row.id,
    agentId: row.agent_id,
    type: row.memory_type,
    key: row.key,
    content: fields.content,
    summary: fields.summary,
    importance: Number(row.importance),
    pinned: row.is_pinned,
    encrypted: row.is_encrypted,
    sync: row.sync_enabled,
    source: row.source,
    accessCount: row.access_count,
    lastAccessedAt: row.last_accessed_at?.toISOString() ?? null,
    expiresAt: row.expires_at?.toISOString() ?? null,
    expired: row.expires_at !== null && row.expires_at.getTime() <= now.getTime(),
    archived: row.is_archived,
    version: row.version,
    serverVersion: String(row.server_version),
    embedding: {
      model: row.embedding_model,
      embeddedAt: row.embedded_at?.toISOString() ?? null,
      pending: reader.vectors && !row.is_encrypted && row.content_hash !== null && row.embedded_at === null,
    },
    createdBy: { keyId: row.created_by_key_id, runId: row.created_by_run_id, taskId: row.created_by_task_id },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function versionRowToVersion(
  row: MemoryVersionRow,
  owner: string | null,
  encryptionKey: Buffer | null,
): MemoryVersion {
  const fields =
    row.is_encrypted && isEnvelope(row.content)
      ? unseal(encryptionKey, row.content, slotOf(owner, row.memory_type, row.key), row.memory_id)
      : { content: row.content, summary: row.summary };
  return {
    memoryId: row.memory_id,
    version: row.version,
    change: row.change,
    type: row.memory_type,
    key: row.key,
    content: fields.content,
    summary: fields.summary,
    importance: Number(row.importance),
    pinned: row.is_pinned,
    expiresAt: row.expires_at?.toISOString() ?? null,
    archived: row.is_archived,
    deleted: row.is_deleted,
    source: row.source,
    writtenBy: { keyId: row.written_by_key_id, runId: row.written_by_run_id, taskId: row.written_by_task_id },
    createdAt: row.created_at.toISOString(),
  };
}
