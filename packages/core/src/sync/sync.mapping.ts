import type { SyncConflict, SyncMemoryData, SyncStrategy, SyncVersionSnapshot } from '@ora/contracts';
import type { SyncConflictRow } from '@ora/db';
import { openFields, type StoredMemory } from '../memory/memory.repository';

/**
 * What sync reads of a memory row (push loads it, pull sends it): value, identity, scope, versions;
 * no indexed text copy, no embedding bookkeeping.
 */
export const SYNCED_MEMORY_COLUMNS = [
  'id',
  'agent_id',
  'memory_type',
  'key',
  'content',
  'summary',
  'importance',
  'is_pinned',
  'is_encrypted',
  'sync_enabled',
  'version',
  'server_version',
  'expires_at',
  'is_archived',
  'deleted_at',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof StoredMemory>;
export type SyncedMemory = Pick<StoredMemory, (typeof SYNCED_MEMORY_COLUMNS)[number]>;

/** A memory row as sync carries it (decrypted when stored encrypted). */
export function memoryRowToSyncData(
  row: Pick<
    StoredMemory,
    | 'id'
    | 'agent_id'
    | 'memory_type'
    | 'key'
    | 'content'
    | 'summary'
    | 'is_encrypted'
    | 'importance'
    | 'is_pinned'
    | 'expires_at'
    | 'updated_at'
  >,
  encryptionKey: Buffer | null,
): SyncMemoryData {
  const fields = openFields(row, encryptionKey);
  return {
    agentId: row.agent_id,
    type: row.memory_type,
    key: row.key,
    content: fields.content as SyncMemoryData['content'],
    summary: fields.summary,
    importance: Number(row.importance),
    pinned: row.is_pinned,
    expiresAt: row.expires_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
  };
}

export type ConflictOutcome = SyncConflict['outcome'];

function snapshot(value: unknown, fallbackSyncId: string): SyncVersionSnapshot {
  const v = (value ?? {}) as Partial<SyncVersionSnapshot>;
  return {
    content: v.content ?? null,
    updatedAt: v.updatedAt ?? null,
    syncId: v.syncId ?? fallbackSyncId,
    serverVersion: v.serverVersion ?? null,
  };
}

export function conflictRowToConflict(row: SyncConflictRow): SyncConflict {
  const local = snapshot(row.local_version, row.entity_id);
  const server = snapshot(row.server_version, row.entity_id);
  const keyOf = (s: SyncVersionSnapshot) => (s.content as { key?: unknown } | null)?.key;
  const key = row.entity_type === 'memory' ? (keyOf(server) ?? keyOf(local) ?? null) : null;
  return {
    id: row.id,
    type: row.entity_type,
    syncId: row.entity_id,
    key: typeof key === 'string' ? key : null,
    clientId: row.client_id,
    mutationId: row.mutation_id === null ? null : Number(row.mutation_id),
    strategy: row.strategy as SyncStrategy,
    status: row.status,
    outcome: (row.outcome ?? 'pending') as ConflictOutcome,
    baseVersion: row.base_version === null ? null : String(row.base_version),
    localVersion: local,
    serverVersion: server,
    mergedVersion: row.merged_version ? snapshot(row.merged_version, row.entity_id) : null,
    createdAt: row.created_at.toISOString(),
    resolvedAt: row.resolved_at?.toISOString() ?? null,
  };
}

/** Retried: two transactions wrote the same new key, or locked rows in a different order. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23505' || code === '40P01' || code === '40001';
}
