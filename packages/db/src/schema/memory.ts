import type { Generated, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';

export interface MemoryTable {
  id: Generated<string>;
  /** null: ORA's own memory. */
  agent_id: string | null;
  memory_type: 'fact' | 'preference' | 'context' | 'skill' | 'instruction' | 'reflection' | 'task' | 'entity';
  key: string;
  content: unknown;
  summary: string | null;
  /** Plain text of the content, indexed for full-text search with the summary. */
  content_text: string | null;
  importance: Generated<number>;
  access_count: Generated<number>;
  last_accessed_at: Date | null;
  is_pinned: Generated<boolean>;
  is_encrypted: Generated<boolean>;
  /** tsvector over summary and content_text, maintained by Postgres. */
  search: GeneratedAlways<string>;
  /**
   * pgvector `vector(1536)` as its text form (`[0.1,0.2,...]`). The column only exists when
   * pgvector was available at migration time.
   */
  embedding?: string | null;
  embedding_model: string | null;
  embedded_at: Date | null;
  /** Hash of the text the embedding is computed from (summary and content_text). */
  content_hash: string | null;
  /** The last failed embedding attempt (the sweep waits before trying again). */
  embedding_error: string | null;
  embedding_failed_at: Date | null;
  source: Generated<'server' | 'desktop' | 'sync'>;
  sync_id: string | null;
  synced_at: Date | null;
  is_dirty: Generated<boolean>;
  sync_enabled: Generated<boolean>;
  /** Bumped on every write of the memory; agent_memory_versions keeps each one. */
  version: Generated<number>;
  /** From sync_version_seq (int8, as a string); set to nextval again on every synced change. */
  server_version: Generated<string>;
  expires_at: Date | null;
  is_archived: Generated<boolean>;
  /** Tombstone: the row stays so a pull can report the delete. */
  deleted_at: Date | null;
  created_by_run_id: string | null;
  created_by_task_id: string | null;
  created_by_key_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type MemoryRow = Selectable<MemoryTable>;
export type NewMemoryRow = Insertable<MemoryTable>;
export type MemoryRowUpdate = Updateable<MemoryTable>;

export interface MemoryVersionTable {
  id: Generated<string>;
  memory_id: string;
  version: number;
  content: unknown;
  summary: string | null;
  importance: number;
  memory_type: MemoryTable['memory_type'];
  key: string;
  source: string;
  change: 'insert' | 'update' | 'archive' | 'delete' | 'revert';
  is_pinned: Generated<boolean>;
  /** The content is an encryption envelope (AES-256-GCM), like the memory's own at that version. */
  is_encrypted: Generated<boolean>;
  is_archived: Generated<boolean>;
  is_deleted: Generated<boolean>;
  expires_at: Date | null;
  written_by_run_id: string | null;
  written_by_task_id: string | null;
  written_by_key_id: string | null;
  created_at: Generated<Date>;
}
export type MemoryVersionRow = Selectable<MemoryVersionTable>;
export type NewMemoryVersionRow = Insertable<MemoryVersionTable>;
export type MemoryVersionRowUpdate = Updateable<MemoryVersionTable>;

export interface MemoryTables {
  agent_memory: MemoryTable;
  agent_memory_versions: MemoryVersionTable;
}
