import { type Kysely, sql } from 'kysely';

// The embedded queue driver's jobs (default single-process mode; BullMQ keeps its jobs in Redis).
// A job is claimed by setting it active with a lease (`locked_until`) and a fresh `lock_token`
// that fences every later write of that run; a lease that runs out puts the job back to waiting.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table queue_jobs (
      queue text not null,
      id text not null,
      seq bigserial not null,
      name text not null,
      payload jsonb not null default 'null',
      priority integer not null default 0,
      run_at timestamptz not null default now(),
      attempts_made integer not null default 0,
      max_attempts integer not null default 1 check (max_attempts >= 1),
      backoff_ms integer not null default 1000 check (backoff_ms >= 0),
      status text not null default 'waiting' check (status in ('waiting', 'active', 'completed', 'failed')),
      locked_until timestamptz,
      lock_token uuid,
      stalls integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      finished_at timestamptz,
      primary key (queue, id)
    )
  `.execute(db);
  // The claim: highest priority first, then in the order the jobs became due.
  await sql`create index idx_queue_jobs_ready on queue_jobs (queue, priority desc, run_at, seq) where status = 'waiting'`.execute(
    db,
  );
  // When the next delayed job is due, for the consumer's wake-up timer.
  await sql`create index idx_queue_jobs_due on queue_jobs (queue, run_at) where status = 'waiting'`.execute(db);
  // Leases that ran out (a consumer died while running the job).
  await sql`create index idx_queue_jobs_leases on queue_jobs (queue, locked_until) where status = 'active'`.execute(db);
  // Trimming of the kept completed and failed jobs.
  await sql`
    create index idx_queue_jobs_finished on queue_jobs (queue, status, finished_at)
    where status in ('completed', 'failed')
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists queue_jobs`.execute(db);
}
