import { type Kysely, sql } from 'kysely';

// The whole migration run is one transaction, so nothing here may fail on a database without
// pgvector: the extension, the embedding column and its index are only created when the checks
// below say they will succeed. Without them memory search is full-text only.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agent_memory (
      id uuid primary key default gen_random_uuid(),
      agent_id uuid references agents (id) on delete cascade,
      memory_type text not null check (memory_type in (
        'fact', 'preference', 'context', 'skill', 'instruction', 'reflection', 'task', 'entity'
      )),
      key text not null,
      content jsonb not null,
      summary text,
      content_text text,
      importance double precision not null default 0.5 check (importance >= 0 and importance <= 1),
      access_count integer not null default 0,
      last_accessed_at timestamptz,
      is_pinned boolean not null default false,
      is_encrypted boolean not null default false,
      search tsvector generated always as (
        to_tsvector('english', coalesce(summary, '') || ' ' || coalesce(content_text, ''))
      ) stored,
      embedding_model text,
      embedded_at timestamptz,
      content_hash text,
      source text not null default 'server' check (source in ('server', 'desktop', 'sync')),
      sync_id uuid,
      synced_at timestamptz,
      is_dirty boolean not null default false,
      sync_enabled boolean not null default true,
      version integer not null default 1,
      server_version bigint not null default nextval('sync_version_seq'),
      expires_at timestamptz,
      is_archived boolean not null default false,
      deleted_at timestamptz,
      created_by_run_id uuid,
      created_by_task_id uuid,
      created_by_key_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);

  // A NULL agent_id is ORA's own memory; coalesce makes it one owner for uniqueness.
  await sql`
    create unique index idx_agent_memory_unique_key on agent_memory (
      coalesce(agent_id, '00000000-0000-0000-0000-000000000000'::uuid), memory_type, key
    ) where is_archived = false
  `.execute(db);
  await sql`create index idx_agent_memory_agent on agent_memory (agent_id)`.execute(db);
  await sql`create index idx_agent_memory_type on agent_memory (memory_type)`.execute(db);
  await sql`create index idx_agent_memory_importance on agent_memory (importance desc)`.execute(db);
  await sql`create index idx_agent_memory_sync on agent_memory (is_dirty, synced_at)`.execute(db);
  await sql`create index idx_agent_memory_server_version on agent_memory (server_version)`.execute(db);
  await sql`create index idx_agent_memory_search on agent_memory using gin (search)`.execute(db);
  await sql`
    create index idx_agent_memory_expires on agent_memory (expires_at) where expires_at is not null
  `.execute(db);
  // The embedding job's backlog: live memories never embedded.
  await sql`
    create index idx_agent_memory_unembedded on agent_memory (created_at)
    where embedded_at is null and deleted_at is null
  `.execute(db);

  await addEmbeddingIfVectorAvailable(db);

  await sql`
    create table agent_memory_versions (
      id uuid primary key default gen_random_uuid(),
      memory_id uuid not null references agent_memory (id) on delete cascade,
      version integer not null,
      content jsonb not null,
      summary text,
      importance double precision not null,
      memory_type text not null,
      key text not null,
      source text not null,
      change text not null check (change in ('insert', 'update', 'archive', 'delete', 'revert')),
      written_by_run_id uuid,
      written_by_task_id uuid,
      written_by_key_id uuid,
      created_at timestamptz not null default now(),
      unique (memory_id, version)
    )
  `.execute(db);
}

async function addEmbeddingIfVectorAvailable(db: Kysely<any>): Promise<void> {
  // `create extension` fails when the files are missing or the role may not create it, so
  // both are checked first: superuser, an extension that needs none, or a trusted one plus
  // CREATE on the database.
  const { rows } = await sql<{ installed: boolean; installable: boolean }>`
    select
      exists(select 1 from pg_extension where extname = 'vector') as installed,
      exists(
        select 1 from pg_available_extension_versions v
        where v.name = 'vector'
          and (
            coalesce((select rolsuper from pg_roles where rolname = current_user), false)
            or not v.superuser
            or (v.trusted and has_database_privilege(current_database(), 'CREATE'))
          )
      ) as installable
  `.execute(db);
  const check = rows[0];
  if (!check?.installed && !check?.installable) return;
  if (!check.installed) await sql`create extension if not exists vector`.execute(db);

  // The extension may live outside the search path (e.g. an `extensions` schema), so its
  // type and operator class are named with their schema.
  const found = await sql<{ schema: string; hnsw: boolean }>`
    select
      n.nspname as schema,
      exists(select 1 from pg_am where amname = 'hnsw') as hnsw
    from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'vector'
  `.execute(db);
  const ext = found.rows[0];
  if (!ext) return;
  const schema = sql.id(ext.schema);

  await sql`alter table agent_memory add column embedding ${schema}.vector(1536)`.execute(db);
  // HNSW needs pgvector >= 0.5; an older one already installed keeps the column, unindexed.
  if (ext.hnsw) {
    await sql`
      create index idx_agent_memory_embedding on agent_memory
      using hnsw (embedding ${schema}.vector_cosine_ops)
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  // The vector extension stays: other schemas may use it, and dropping it needs privileges.
  await sql`drop table if exists agent_memory_versions`.execute(db);
  await sql`drop table if exists agent_memory`.execute(db);
}
