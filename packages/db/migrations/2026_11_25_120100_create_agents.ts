import { type Kysely, sql } from 'kysely';

// Agents and their runs. agent_runs.task_id gets its foreign key in the tasks migration, once
// agent_tasks exists (the two tables point at each other).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agents (
      id uuid primary key default gen_random_uuid(),
      slug text not null,
      name text not null,
      description text,
      role text,
      system_prompt text not null default '',
      model text,
      fallback_models text[] not null default '{}',
      tools text[] not null default '{}',
      config jsonb not null default '{}',
      max_steps integer not null default 10 check (max_steps > 0),
      max_tokens integer check (max_tokens > 0),
      max_cost_usd numeric(12, 6) check (max_cost_usd >= 0),
      timeout_ms integer not null default 120000 check (timeout_ms > 0),
      is_active boolean not null default true,
      is_system boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create unique index idx_agents_slug on agents (slug)`.execute(db);
  await sql`create index idx_agents_active on agents (is_active)`.execute(db);

  await sql`
    create table agent_runs (
      id uuid primary key default gen_random_uuid(),
      agent_id uuid not null references agents (id) on delete cascade,
      task_id uuid,
      status text not null default 'running'
        check (status in ('running', 'success', 'error', 'cancelled')),
      input jsonb not null default '{}',
      output jsonb,
      transcript jsonb not null default '[]',
      tool_calls jsonb not null default '[]',
      provider text,
      model text,
      attempts jsonb not null default '[]',
      prompt_tokens integer not null default 0,
      completion_tokens integer not null default 0,
      total_tokens integer not null default 0,
      cost numeric(12, 6) not null default 0,
      duration_ms integer,
      error_message text,
      started_at timestamptz not null default now(),
      completed_at timestamptz,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_agent_runs_agent on agent_runs (agent_id, created_at desc)`.execute(db);
  await sql`create index idx_agent_runs_task on agent_runs (task_id, created_at)`.execute(db);
  await sql`create index idx_agent_runs_running on agent_runs (started_at) where status = 'running'`.execute(db);
  await sql`create index idx_agent_runs_created on agent_runs (created_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists agent_runs`.execute(db);
  await sql`drop table if exists agents`.execute(db);
}
