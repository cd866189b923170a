import { type Kysely, sql } from 'kysely';

// A chain is the DAG one tasks.create (or workflow run) made: its budget and what it has spent,
// so a chain that would exceed its budget pauses instead of spending.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table task_chains (
      id uuid primary key,
      title text,
      workflow_name text,
      token_budget bigint check (token_budget > 0),
      cost_budget numeric(12, 6) check (cost_budget >= 0),
      tokens_used bigint not null default 0,
      cost_used numeric(12, 6) not null default 0,
      created_by_key_id uuid,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_task_chains_created on task_chains (created_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists task_chains`.execute(db);
}
