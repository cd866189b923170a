import { type Kysely, sql } from 'kysely';

// Indexes no query reads, written for every task (three events and an outbox row each):
// - events_id_key (unique on events.id): an event is found by its position (seq, txid), never by
//   its id, and the id is a random UUID, the costliest kind of key to insert into a btree; the id
//   stays unique by construction (gen_random_uuid);
// - idx_task_dispatch_outbox_task (task_id): the outbox is drained by id and its rows live for
//   milliseconds; nothing looks them up by task (tasks are never deleted, so the foreign key's
//   cascade never scans it, and would scan a near-empty table if it did).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table events drop constraint if exists events_id_key`.execute(db);
  await sql`drop index if exists idx_task_dispatch_outbox_task`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists idx_task_dispatch_outbox_task on task_dispatch_outbox (task_id)`.execute(db);
  await sql`alter table events add constraint events_id_key unique (id)`.execute(db);
}
