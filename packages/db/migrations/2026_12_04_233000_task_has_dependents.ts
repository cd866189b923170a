import { type Kysely, sql } from 'kysely';

// A task's success releases its dependents in the same transaction, after the update (a statement
// of its own, so it sees edges added by a transaction the update waited for). has_dependents says
// on the row itself whether any task ever depended on it: whoever adds an edge to an existing
// task sets it (an update of that row, so a success that waited for it re-checks it), and the
// success of a task without dependents is then one statement. Never unset; a stale true only costs
// the longer path.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table agent_tasks add column has_dependents boolean not null default false`.execute(db);
  await sql`
    update agent_tasks set has_dependents = true
    where id in (select depends_on_task_id from task_dependencies)
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table agent_tasks drop column if exists has_dependents`.execute(db);
}
