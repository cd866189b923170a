import { type Kysely, sql } from 'kysely';

// Conversations keep the plan's `messages` array for compatibility; the messages themselves
// live in conversation_messages, one row each, so an append is an insert and not a rewrite.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agent_conversations (
      id uuid primary key default gen_random_uuid(),
      agent_id uuid references agents (id) on delete cascade,
      title text,
      summary text,
      messages jsonb not null default '[]',
      message_count integer not null default 0,
      token_count integer not null default 0,
      status text not null default 'active'
        check (status in ('active', 'completed', 'archived', 'error')),
      source text not null default 'server',
      sync_id uuid,
      synced_at timestamptz,
      is_dirty boolean not null default false,
      version integer not null default 1,
      server_version bigint not null default nextval('sync_version_seq'),
      deleted_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_conversations_agent on agent_conversations (agent_id)`.execute(db);
  await sql`create index idx_conversations_status on agent_conversations (status)`.execute(db);
  await sql`create index idx_conversations_sync on agent_conversations (is_dirty, synced_at)`.execute(db);
  await sql`create index idx_conversations_updated on agent_conversations (updated_at desc)`.execute(db);
  await sql`
    create index idx_conversations_server_version on agent_conversations (server_version)
  `.execute(db);

  // Message ids may come from the client (the desktop names its messages), so they are text and
  // unique per conversation. seq is drawn from the sync sequence: it orders a conversation and
  // lets a pull fetch the messages appended after its cursor.
  await sql`
    create table conversation_messages (
      conversation_id uuid not null references agent_conversations (id) on delete cascade,
      id text not null,
      seq bigint not null default nextval('sync_version_seq'),
      role text not null check (role in ('user', 'assistant', 'system', 'tool')),
      content text not null,
      metadata jsonb not null default '{}',
      token_count integer,
      created_at timestamptz not null default now(),
      primary key (conversation_id, id)
    )
  `.execute(db);
  await sql`
    create index idx_conversation_messages_seq on conversation_messages (conversation_id, seq)
  `.execute(db);
  await sql`create index idx_conversation_messages_pull on conversation_messages (seq)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists conversation_messages`.execute(db);
  await sql`drop table if exists agent_conversations`.execute(db);
}
