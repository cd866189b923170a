import { type Kysely, sql } from 'kysely';

// Workflows are versioned DAG templates (a new version is a new row, so running tasks keep the
// definition they started from); schedules create tasks from a template on a cron.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table workflows (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      version integer not null default 1 check (version >= 1),
      description text,
      definition jsonb not null,
      is_active boolean not null default true,
      created_at timestamptz not null default now(),
      unique (name, version)
    )
  `.execute(db);

  await sql`
    create table schedules (
      id uuid primary key default gen_random_uuid(),
      name text not null unique,
      cron text not null,
      timezone text not null default 'UTC',
      overlap_policy text not null default 'skip'
        check (overlap_policy in ('skip', 'queue_one', 'allow')),
      template jsonb not null,
      is_active boolean not null default true,
      next_run_at timestamptz,
      last_run_at timestamptz,
      last_task_id uuid references agent_tasks (id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`
    create index idx_schedules_due on schedules (next_run_at) where is_active = true
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists schedules`.execute(db);
  await sql`drop table if exists workflows`.execute(db);
}
