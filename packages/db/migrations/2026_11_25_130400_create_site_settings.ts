import { type Kysely, sql } from 'kysely';

// One row: the site's settings as JSON, validated by the contracts schema on every write.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table site_settings (
      id text primary key default 'site' check (id = 'site'),
      value jsonb not null default '{}',
      updated_at timestamptz not null default now(),
      updated_by_key_id uuid
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists site_settings`.execute(db);
}
