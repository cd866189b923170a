import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface ConversationTable {
  id: Generated<string>;
  /** null: ORA's own conversation. */
  agent_id: string | null;
  title: string | null;
  summary: string | null;
  /** The summary covers the messages up to this seq (int8, as a string). */
  summary_through_seq: string | null;
  summary_token_count: number | null;
  summarized_at: Date | null;
  /** The plan's message array, kept for compatibility; conversation_messages is the record. */
  messages: Generated<unknown>;
  message_count: Generated<number>;
  token_count: Generated<number>;
  status: Generated<'active' | 'completed' | 'archived' | 'error'>;
  source: Generated<string>;
  sync_id: string | null;
  synced_at: Date | null;
  is_dirty: Generated<boolean>;
  version: Generated<number>;
  /** From sync_version_seq (int8, as a string); set to nextval again on every synced change. */
  server_version: Generated<string>;
  deleted_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type ConversationRow = Selectable<ConversationTable>;
export type NewConversationRow = Insertable<ConversationTable>;
export type ConversationRowUpdate = Updateable<ConversationTable>;

export interface ConversationMessageTable {
  conversation_id: string;
  /** Unique within its conversation; the client may choose it. */
  id: string;
  /** From sync_version_seq (int8, as a string): orders the conversation and feeds sync.pull. */
  seq: Generated<string>;
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  metadata: Generated<unknown>;
  token_count: number | null;
  created_at: Generated<Date>;
}
export type ConversationMessageRow = Selectable<ConversationMessageTable>;
export type NewConversationMessageRow = Insertable<ConversationMessageTable>;
export type ConversationMessageRowUpdate = Updateable<ConversationMessageTable>;

export interface ConversationTables {
  agent_conversations: ConversationTable;
  conversation_messages: ConversationMessageTable;
}
