import { type Kysely, sql } from 'kysely';

// Indexes no query uses, yet written to for every task (a status change is never a HOT update, so
// every index of agent_tasks gets an entry at each transition), so the queue's throughput pays:
// - idx_tasks_status (status) is the prefix of idx_tasks_claimable (status, priority desc,
//   created_at), which serves every query by status as well;
// - idx_tasks_priority (priority desc, created_at) orders all tasks by priority, which no query
//   asks for (the stale-task scan filters on status first and uses idx_tasks_claimable);
// - idx_task_dispatch_outbox_available (available_at, id): the drain takes outbox rows in id order
//   (the primary key); available_at only becomes the job's delay;
// - idx_events_created (created_at): the log is read by position (txid, seq), type, agent or task.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_tasks_status`.execute(db);
  await sql`drop index if exists idx_tasks_priority`.execute(db);
  await sql`drop index if exists idx_task_dispatch_outbox_available`.execute(db);
  await sql`drop index if exists idx_events_created`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists idx_events_created on events (created_at)`.execute(db);
  await sql`
    create index if not exists idx_task_dispatch_outbox_available on task_dispatch_outbox (available_at, id)
  `.execute(db);
  await sql`create index if not exists idx_tasks_priority on agent_tasks (priority desc, created_at asc)`.execute(db);
  await sql`create index if not exists idx_tasks_status on agent_tasks (status)`.execute(db);
}
