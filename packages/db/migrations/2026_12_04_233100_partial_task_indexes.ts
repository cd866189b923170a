import { type Kysely, sql } from 'kysely';

// A status change is never a HOT update, so every index of agent_tasks gets an entry at each
// transition (three per task at least: created, started, ended). Tasks of no agent and of no
// parent are most of a queue's traffic, and no query looks them up by a null agent or parent:
// these indexes now hold only the rows that have one (`assigned_to = $1` and `parent_task_id = $1`,
// as every query and foreign-key action asks, imply it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_tasks_assigned`.execute(db);
  await sql`create index idx_tasks_assigned on agent_tasks (assigned_to, status) where assigned_to is not null`.execute(
    db,
  );
  await sql`drop index if exists idx_tasks_parent`.execute(db);
  await sql`create index idx_tasks_parent on agent_tasks (parent_task_id) where parent_task_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_tasks_parent`.execute(db);
  await sql`create index idx_tasks_parent on agent_tasks (parent_task_id)`.execute(db);
  await sql`drop index if exists idx_tasks_assigned`.execute(db);
  await sql`create index idx_tasks_assigned on agent_tasks (assigned_to, status)`.execute(db);
}
