import { type Kysely, sql } from 'kysely';

// The domain event outbox: written in the same transaction as the change it describes, read in
// seq order by the dispatcher (webhooks, live stream) and by `events.*` readers.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table events (
      seq bigserial primary key,
      id uuid not null unique default gen_random_uuid(),
      type text not null,
      version integer not null default 1,
      payload jsonb not null default '{}',
      agent_id uuid,
      task_id uuid,
      key_id uuid,
      created_at timestamptz not null default now(),
      dispatched_at timestamptz
    )
  `.execute(db);
  await sql`create index idx_events_type on events (type, seq)`.execute(db);
  await sql`create index idx_events_undispatched on events (seq) where dispatched_at is null`.execute(db);
  await sql`create index idx_events_task on events (task_id, seq) where task_id is not null`.execute(db);
  await sql`create index idx_events_agent on events (agent_id, seq) where agent_id is not null`.execute(db);
  await sql`create index idx_events_created on events (created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists events`.execute(db);
}
