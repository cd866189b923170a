import { type Kysely, sql } from 'kysely';

// The agent runtime: what a run records beyond the plan's columns (which task attempt, how many
// steps, why it stopped, the model asked for), and the durable record of every tool call, keyed by
// (task, step, call), so a retried task replays a completed side effect instead of repeating it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table agent_runs add column attempt integer`.execute(db);
  await sql`alter table agent_runs add column steps integer not null default 0`.execute(db);
  await sql`alter table agent_runs add column stop_reason text`.execute(db);
  await sql`alter table agent_runs add column requested_model text`.execute(db);
  await sql`alter table agent_runs add column provider_ms integer`.execute(db);
  await sql`
    create table agent_tool_calls (
      id uuid primary key default gen_random_uuid(),
      task_id uuid not null references agent_tasks (id) on delete cascade,
      step integer not null check (step >= 0),
      call_index integer not null check (call_index >= 0),
      run_id uuid references agent_runs (id) on delete set null,
      attempt integer not null,
      tool text not null,
      arguments jsonb not null default '{}',
      status text not null check (status in ('success', 'error')),
      result jsonb,
      error_message text,
      started_at timestamptz not null,
      completed_at timestamptz not null,
      unique (task_id, step, call_index)
    )
  `.execute(db);
  await sql`create index idx_agent_tool_calls_run on agent_tool_calls (run_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists agent_tool_calls`.execute(db);
  await sql`alter table agent_runs drop column if exists provider_ms`.execute(db);
  await sql`alter table agent_runs drop column if exists requested_model`.execute(db);
  await sql`alter table agent_runs drop column if exists stop_reason`.execute(db);
  await sql`alter table agent_runs drop column if exists steps`.execute(db);
  await sql`alter table agent_runs drop column if exists attempt`.execute(db);
}
