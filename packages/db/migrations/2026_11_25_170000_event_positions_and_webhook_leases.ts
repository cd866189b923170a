import { type Kysely, sql } from 'kysely';

// Readers of the event outbox (webhook dispatcher, events.list, the live stream) must never skip an
// event: a transaction can take a lower seq and commit after a reader has seen a higher one. So
// every event carries the id of the transaction that wrote it, and readers go in (txid, seq) order
// only below pg_snapshot_xmin(pg_current_snapshot()): every transaction with a lower id has ended,
// so nothing can appear behind a reader's position any more (Postgres and PGlite alike).
//
// The webhook dispatcher keeps its position in event_cursors, so events.dispatched_at is no longer
// written (an update of every event row) and its partial index goes.
//
// A delivery in flight holds a lease (lease_expires_at), so one whose worker died is taken back;
// round_attempts counts tries since the last replay. Taking the lease touches no indexed column, so
// with room left in each page (fillfactor 80) it is a HOT update; the due-delivery index covers
// only deliveries still to send. A delivery keeps its own copy of the event (payload), so its
// event_id is a plain reference: the foreign key (whose check locked the event row for every
// delivery written) and its index go.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table events add column txid xid8 not null default pg_current_xact_id()`.execute(db);
  // Reads go in (txid, seq) order now: these replace the (type, seq) and (agent_id, seq) indexes.
  await sql`create index idx_events_position on events (txid, seq)`.execute(db);
  await sql`create index idx_events_type_position on events (type, txid, seq)`.execute(db);
  await sql`
    create index idx_events_agent_position on events (agent_id, txid, seq) where agent_id is not null
  `.execute(db);
  await sql`drop index if exists idx_events_type`.execute(db);
  await sql`drop index if exists idx_events_agent`.execute(db);

  await sql`
    create table event_cursors (
      name text primary key,
      txid xid8 not null,
      seq bigint not null,
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`insert into event_cursors (name, txid, seq) values ('webhooks', '0'::xid8, 0)`.execute(db);
  await sql`drop index if exists idx_events_undispatched`.execute(db);

  await sql`alter table webhooks add column agent_id uuid`.execute(db);
  await sql`alter table webhooks add column failing_since timestamptz`.execute(db);
  await sql`create index idx_webhooks_agent on webhooks (agent_id) where agent_id is not null`.execute(db);

  await sql`alter table webhook_deliveries add column lease_expires_at timestamptz`.execute(db);
  await sql`alter table webhook_deliveries add column round_attempts integer not null default 0`.execute(db);
  await sql`alter table webhook_deliveries set (fillfactor = 80)`.execute(db);
  await sql`alter table webhook_deliveries drop constraint if exists webhook_deliveries_event_id_fkey`.execute(db);
  await sql`drop index if exists idx_webhook_deliveries_event`.execute(db);
  await sql`drop index if exists idx_webhook_deliveries_due`.execute(db);
  await sql`
    create index idx_webhook_deliveries_due on webhook_deliveries (next_attempt_at)
    where status in ('pending', 'failed')
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_webhook_deliveries_due`.execute(db);
  await sql`create index idx_webhook_deliveries_due on webhook_deliveries (status, next_attempt_at)`.execute(db);
  await sql`alter table webhook_deliveries reset (fillfactor)`.execute(db);
  await sql`create index if not exists idx_webhook_deliveries_event on webhook_deliveries (event_id)`.execute(db);
  await sql`
    alter table webhook_deliveries add constraint webhook_deliveries_event_id_fkey
    foreign key (event_id) references events (seq) on delete set null
  `.execute(db);
  await sql`alter table webhook_deliveries drop column if exists round_attempts`.execute(db);
  await sql`alter table webhook_deliveries drop column if exists lease_expires_at`.execute(db);
  await sql`drop index if exists idx_webhooks_agent`.execute(db);
  await sql`alter table webhooks drop column if exists failing_since`.execute(db);
  await sql`alter table webhooks drop column if exists agent_id`.execute(db);
  await sql`create index if not exists idx_events_undispatched on events (seq) where dispatched_at is null`.execute(db);
  await sql`drop table if exists event_cursors`.execute(db);
  await sql`create index if not exists idx_events_type on events (type, seq)`.execute(db);
  await sql`
    create index if not exists idx_events_agent on events (agent_id, seq) where agent_id is not null
  `.execute(db);
  await sql`drop index if exists idx_events_agent_position`.execute(db);
  await sql`drop index if exists idx_events_type_position`.execute(db);
  await sql`drop index if exists idx_events_position`.execute(db);
  await sql`alter table events drop column if exists txid`.execute(db);
}
