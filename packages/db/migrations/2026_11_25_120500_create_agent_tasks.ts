import { type Kysely, sql } from 'kysely';

// The task queue: tasks and their DAG edges, the transition log, and the dispatch outbox that a
// drain moves onto the job queue after commit (Redis is never written inside a transaction).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agent_tasks (
      id uuid primary key default gen_random_uuid(),
      assigned_to uuid references agents (id) on delete set null,
      delegated_by uuid references agents (id) on delete set null,
      task_type text not null,
      title text not null,
      description text,
      instructions jsonb,
      input jsonb not null default '{}',
      output jsonb,
      priority integer not null default 0,
      scheduled_for timestamptz,
      deadline_at timestamptz,
      status text not null default 'pending' check (status in (
        'pending', 'queued', 'running', 'waiting', 'success', 'error', 'cancelled', 'expired'
      )),
      status_message text,
      error_message text,
      attempt_count integer not null default 0,
      max_attempts integer not null default 3 check (max_attempts >= 1),
      last_attempt_at timestamptz,
      next_attempt_at timestamptz,
      started_at timestamptz,
      completed_at timestamptz,
      duration_ms integer,
      tokens_used integer,
      estimated_cost numeric(10, 6),
      token_budget integer check (token_budget > 0),
      cost_budget numeric(12, 6) check (cost_budget >= 0),
      model_override text,
      parent_task_id uuid references agent_tasks (id) on delete set null,
      chain_id uuid,
      related_run_id uuid references agent_runs (id) on delete set null,
      related_post_id uuid,
      workflow_name text,
      workflow_version integer,
      requires_approval boolean not null default false,
      approved_at timestamptz,
      approved_by_key_id uuid,
      run_anyway_on_dependency_failure boolean not null default false,
      lease_token uuid,
      lease_expires_at timestamptz,
      locked_by text,
      cancel_requested_at timestamptz,
      cancel_reason text,
      source text not null default 'server'
        check (source in ('server', 'desktop', 'api', 'webhook', 'schedule')),
      created_by_key_id uuid,
      idempotency_key text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_tasks_assigned on agent_tasks (assigned_to, status)`.execute(db);
  await sql`create index idx_tasks_status on agent_tasks (status)`.execute(db);
  await sql`create index idx_tasks_priority on agent_tasks (priority desc, created_at asc)`.execute(db);
  await sql`
    create index idx_tasks_scheduled on agent_tasks (scheduled_for) where status = 'pending'
  `.execute(db);
  await sql`create index idx_tasks_parent on agent_tasks (parent_task_id)`.execute(db);
  await sql`create index idx_tasks_chain on agent_tasks (chain_id)`.execute(db);
  await sql`create index idx_tasks_created on agent_tasks (created_at desc, id desc)`.execute(db);
  await sql`
    create index idx_tasks_claimable on agent_tasks (status, priority desc, created_at)
  `.execute(db);
  await sql`
    create index idx_tasks_lease on agent_tasks (lease_expires_at) where status = 'running'
  `.execute(db);
  await sql`
    create index idx_tasks_next_attempt on agent_tasks (next_attempt_at)
    where next_attempt_at is not null
  `.execute(db);
  await sql`
    create index idx_tasks_deadline on agent_tasks (deadline_at)
    where deadline_at is not null and status in ('pending', 'queued', 'running', 'waiting')
  `.execute(db);
  // An idempotency key is scoped to the key that created the task; tasks created by the system
  // (schedules) share the all-zero owner.
  await sql`
    create unique index idx_tasks_idempotency on agent_tasks (
      coalesce(created_by_key_id, '00000000-0000-0000-0000-000000000000'::uuid), idempotency_key
    ) where idempotency_key is not null
  `.execute(db);

  await sql`
    alter table agent_runs add constraint agent_runs_task_id_fkey
    foreign key (task_id) references agent_tasks (id) on delete set null
  `.execute(db);

  await sql`
    create table task_dependencies (
      task_id uuid not null references agent_tasks (id) on delete cascade,
      depends_on_task_id uuid not null references agent_tasks (id) on delete cascade,
      primary key (task_id, depends_on_task_id),
      check (task_id <> depends_on_task_id)
    )
  `.execute(db);
  await sql`
    create index idx_task_dependencies_depends_on on task_dependencies (depends_on_task_id)
  `.execute(db);

  await sql`
    create table task_events (
      id bigserial primary key,
      task_id uuid not null references agent_tasks (id) on delete cascade,
      from_status text,
      to_status text not null,
      message text,
      details jsonb,
      attempt integer,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_task_events_task on task_events (task_id, id)`.execute(db);

  await sql`
    create table task_dispatch_outbox (
      id bigserial primary key,
      task_id uuid not null references agent_tasks (id) on delete cascade,
      job_name text not null,
      payload jsonb not null default '{}',
      available_at timestamptz not null default now(),
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`
    create index idx_task_dispatch_outbox_available on task_dispatch_outbox (available_at, id)
  `.execute(db);
  await sql`create index idx_task_dispatch_outbox_task on task_dispatch_outbox (task_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists task_dispatch_outbox`.execute(db);
  await sql`drop table if exists task_events`.execute(db);
  await sql`drop table if exists task_dependencies`.execute(db);
  await sql`alter table agent_runs drop constraint if exists agent_runs_task_id_fkey`.execute(db);
  await sql`drop table if exists agent_tasks`.execute(db);
}
