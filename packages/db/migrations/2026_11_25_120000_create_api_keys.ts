import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      description text,
      key_hash text not null,
      key_prefix text not null,
      scopes text[] not null default array['*'],
      rate_limit_per_minute integer not null default 60,
      rate_limit_per_day integer not null default 10000,
      total_requests bigint not null default 0,
      last_used_at timestamptz,
      last_used_ip text,
      allowed_ips text[],
      expires_at timestamptz,
      is_active boolean not null default true,
      revoked_at timestamptz,
      revoked_reason text,
      agent_id uuid,
      created_by_key_id uuid,
      rotated_from_key_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create unique index idx_api_keys_hash on api_keys (key_hash)`.execute(db);
  await sql`create index idx_api_keys_prefix on api_keys (key_prefix)`.execute(db);
  await sql`create index idx_api_keys_agent on api_keys (agent_id)`.execute(db);
  await sql`create index idx_api_keys_created on api_keys (created_at desc, id desc)`.execute(db);

  await sql`
    create table audit_log (
      id bigserial primary key,
      created_at timestamptz not null default now(),
      key_id uuid,
      action text not null,
      target_type text,
      target_id text,
      ip text,
      request_id text,
      details jsonb
    )
  `.execute(db);
  await sql`create index idx_audit_log_created on audit_log (created_at desc)`.execute(db);
  await sql`create index idx_audit_log_key on audit_log (key_id, id desc)`.execute(db);
  await sql`create index idx_audit_log_target on audit_log (target_type, target_id)`.execute(db);

  await sql`
    create table idempotency_keys (
      key_id uuid not null,
      idempotency_key text not null,
      action text not null,
      request_hash text not null,
      status text not null check (status in ('running', 'completed')),
      response_status integer,
      response_body jsonb,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      expires_at timestamptz not null,
      primary key (key_id, idempotency_key)
    )
  `.execute(db);
  await sql`create index idx_idempotency_expires on idempotency_keys (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists idempotency_keys`.execute(db);
  await sql`drop table if exists audit_log`.execute(db);
  await sql`drop table if exists api_keys`.execute(db);
}
