import { type Kysely, sql } from 'kysely';

// Webhooks, one delivery per (webhook, event) and every attempt of it. A delivery's id is the
// stable `webhook-id` header of Standard Webhooks, the same on every retry.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table webhooks (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      description text,
      url text not null,
      secret text,
      previous_secret text,
      previous_secret_expires_at timestamptz,
      events text[] not null,
      filters jsonb not null default '{}',
      max_retries integer not null default 3 check (max_retries >= 0),
      retry_delay_seconds integer[] not null default array[60, 300, 3600],
      is_active boolean not null default true,
      consecutive_failures integer not null default 0,
      disabled_at timestamptz,
      disabled_reason text,
      total_deliveries integer not null default 0,
      successful_deliveries integer not null default 0,
      failed_deliveries integer not null default 0,
      last_triggered_at timestamptz,
      last_success_at timestamptz,
      last_failure_at timestamptz,
      last_error text,
      api_key_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_webhooks_events on webhooks using gin (events)`.execute(db);
  await sql`create index idx_webhooks_active on webhooks (is_active)`.execute(db);
  await sql`create index idx_webhooks_api_key on webhooks (api_key_id)`.execute(db);

  // event_id is null for test deliveries; (webhook_id, event_id) is unique so that a dispatcher
  // that runs twice over the same event fans it out once.
  await sql`
    create table webhook_deliveries (
      id uuid primary key default gen_random_uuid(),
      webhook_id uuid not null references webhooks (id) on delete cascade,
      event_id bigint references events (seq) on delete set null,
      event_type text not null,
      payload jsonb not null,
      status text not null default 'pending'
        check (status in ('pending', 'delivering', 'success', 'failed', 'dead')),
      attempt_count integer not null default 0,
      next_attempt_at timestamptz default now(),
      last_status_code integer,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      completed_at timestamptz,
      unique (webhook_id, event_id)
    )
  `.execute(db);
  await sql`
    create index idx_webhook_deliveries_due on webhook_deliveries (status, next_attempt_at)
  `.execute(db);
  await sql`
    create index idx_webhook_deliveries_webhook on webhook_deliveries (webhook_id, created_at desc)
  `.execute(db);
  await sql`create index idx_webhook_deliveries_event on webhook_deliveries (event_id)`.execute(db);

  await sql`
    create table webhook_delivery_attempts (
      id bigserial primary key,
      delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
      attempt integer not null,
      attempted_at timestamptz not null default now(),
      status_code integer,
      latency_ms integer,
      response_excerpt text,
      error text
    )
  `.execute(db);
  await sql`
    create index idx_webhook_delivery_attempts_delivery on webhook_delivery_attempts (delivery_id, attempt)
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists webhook_delivery_attempts`.execute(db);
  await sql`drop table if exists webhook_deliveries`.execute(db);
  await sql`drop table if exists webhooks`.execute(db);
}
