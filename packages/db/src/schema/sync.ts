import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

type SyncEntityType = 'memory' | 'conversation';

export interface SyncClientTable {
  client_id: string;
  key_id: string | null;
  agent_id: string | null;
  /** Highest mutation id applied for this client (int8, as a string). */
  last_mutation_id: Generated<string>;
  /** Server version the client last pulled up to (int8, as a string). */
  last_pull_cursor: Generated<string>;
  last_push_at: Date | null;
  last_pull_at: Date | null;
  created_at: Generated<Date>;
}
export type SyncClientRow = Selectable<SyncClientTable>;
export type NewSyncClientRow = Insertable<SyncClientTable>;
export type SyncClientRowUpdate = Updateable<SyncClientTable>;

export interface SyncMutationTable {
  client_id: string;
  /** int8, as a string */
  mutation_id: string;
  entity_type: SyncEntityType;
  entity_id: string | null;
  op: 'upsert' | 'delete' | 'append';
  /** int8, as a string */
  base_version: string | null;
  /** The answer given the first time, replayed for a repeated mutation. */
  result: unknown | null;
  /** The outcome the first time (null for rows written before it was recorded). */
  status: 'applied' | 'conflict' | 'refused' | null;
  /** The row's version after the mutation (int8, as a string). */
  server_version: string | null;
  /** The row was left holding exactly this mutation's value. */
  took_local: Generated<boolean>;
  applied_at: Generated<Date>;
}
export type SyncMutationRow = Selectable<SyncMutationTable>;
export type NewSyncMutationRow = Insertable<SyncMutationTable>;
export type SyncMutationRowUpdate = Updateable<SyncMutationTable>;

export interface SyncConflictTable {
  id: Generated<string>;
  client_id: string | null;
  /** int8, as a string */
  mutation_id: string | null;
  entity_type: SyncEntityType;
  entity_id: string;
  agent_id: string | null;
  strategy: 'last_write_wins' | 'server_wins' | 'local_wins' | 'merge' | 'manual';
  status: 'resolved' | 'pending';
  outcome: string | null;
  /** Snapshots of each side; the losing one is always kept here. */
  local_version: unknown | null;
  server_version: unknown | null;
  merged_version: unknown | null;
  /** int8, as a string */
  base_version: string | null;
  resolved_at: Date | null;
  resolved_by_key_id: string | null;
  created_at: Generated<Date>;
}
export type SyncConflictRow = Selectable<SyncConflictTable>;
export type NewSyncConflictRow = Insertable<SyncConflictTable>;
export type SyncConflictRowUpdate = Updateable<SyncConflictTable>;

export interface SyncTombstoneTable {
  entity_type: SyncEntityType;
  entity_id: string;
  /** From sync_version_seq (int8, as a string). */
  server_version: Generated<string>;
  deleted_at: Generated<Date>;
  agent_id: string | null;
}
export type SyncTombstoneRow = Selectable<SyncTombstoneTable>;
export type NewSyncTombstoneRow = Insertable<SyncTombstoneTable>;
export type SyncTombstoneRowUpdate = Updateable<SyncTombstoneTable>;

export interface SyncTables {
  sync_clients: SyncClientTable;
  sync_mutations: SyncMutationTable;
  sync_conflicts: SyncConflictTable;
  sync_tombstones: SyncTombstoneTable;
}
