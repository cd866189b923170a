import { type Kysely, sql } from 'kysely';

// Sync bookkeeping: one row per desktop client, every applied mutation (so a replayed push is
// answered from `result`, not applied twice), every conflict with both sides kept (no write is
// lost), and tombstones for hard-deleted rows so a pull can report them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table sync_clients (
      client_id text primary key,
      key_id uuid,
      agent_id uuid,
      last_mutation_id bigint not null default 0,
      last_pull_cursor bigint not null default 0,
      last_push_at timestamptz,
      last_pull_at timestamptz,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_sync_clients_key on sync_clients (key_id)`.execute(db);

  await sql`
    create table sync_mutations (
      client_id text not null references sync_clients (client_id) on delete cascade,
      mutation_id bigint not null,
      entity_type text not null check (entity_type in ('memory', 'conversation')),
      entity_id uuid,
      op text not null check (op in ('upsert', 'delete', 'append')),
      base_version bigint,
      result jsonb,
      applied_at timestamptz not null default now(),
      primary key (client_id, mutation_id)
    )
  `.execute(db);
  await sql`create index idx_sync_mutations_entity on sync_mutations (entity_type, entity_id)`.execute(db);

  await sql`
    create table sync_conflicts (
      id uuid primary key default gen_random_uuid(),
      client_id text,
      mutation_id bigint,
      entity_type text not null check (entity_type in ('memory', 'conversation')),
      entity_id uuid not null,
      agent_id uuid,
      strategy text not null
        check (strategy in ('last_write_wins', 'server_wins', 'local_wins', 'merge', 'manual')),
      status text not null check (status in ('resolved', 'pending')),
      outcome text,
      local_version jsonb,
      server_version jsonb,
      merged_version jsonb,
      base_version bigint,
      resolved_at timestamptz,
      resolved_by_key_id uuid,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_sync_conflicts_status on sync_conflicts (status, created_at)`.execute(db);
  await sql`create index idx_sync_conflicts_entity on sync_conflicts (entity_type, entity_id)`.execute(db);
  await sql`create index idx_sync_conflicts_client on sync_conflicts (client_id, created_at)`.execute(db);

  await sql`
    create table sync_tombstones (
      entity_type text not null check (entity_type in ('memory', 'conversation')),
      entity_id uuid not null,
      server_version bigint not null default nextval('sync_version_seq'),
      deleted_at timestamptz not null default now(),
      agent_id uuid,
      primary key (entity_type, entity_id)
    )
  `.execute(db);
  await sql`create index idx_sync_tombstones_server_version on sync_tombstones (server_version)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists sync_tombstones`.execute(db);
  await sql`drop table if exists sync_conflicts`.execute(db);
  await sql`drop table if exists sync_mutations`.execute(db);
  await sql`drop table if exists sync_clients`.execute(db);
}
