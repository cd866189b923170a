import { type Kysely, sql } from 'kysely';

// idx_tasks_claimable held every task, finished or not, and took a new entry at every status
// change (a status change is never a HOT update). The queries that read it all ask for tasks still
// in play (the stale-task scan: queued; the overview and the agents' ETA: pending, queued, running,
// waiting), and finished tasks are most of the table: the index now holds only tasks in play, so a
// task's last transition writes no entry into it and the scans read an index the size of the
// backlog, not of the history.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_tasks_claimable`.execute(db);
  await sql`
    create index idx_tasks_claimable on agent_tasks (status, priority desc, created_at)
    where status in ('pending', 'queued', 'running', 'waiting')
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_tasks_claimable`.execute(db);
  await sql`create index idx_tasks_claimable on agent_tasks (status, priority desc, created_at)`.execute(db);
}
