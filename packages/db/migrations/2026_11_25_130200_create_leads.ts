import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table leads (
      id uuid primary key default gen_random_uuid(),
      email text not null,
      name text,
      source text,
      status text not null default 'new'
        check (status in ('new', 'contacted', 'qualified', 'converted', 'lost', 'spam')),
      message text,
      notes text,
      tags text[] not null default '{}',
      created_via text not null default 'api' check (created_via in ('api', 'form')),
      created_by_key_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_leads_created on leads (created_at desc, id desc)`.execute(db);
  await sql`create index idx_leads_status on leads (status, created_at desc)`.execute(db);
  await sql`create index idx_leads_email on leads (lower(email))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists leads`.execute(db);
}
