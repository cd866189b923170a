import { type Kysely, sql } from 'kysely';

// Page views without personal data: no IP, no user agent, no full referrer. A visitor is a hash
// of (salt of the day, address, user agent); the salt is made per UTC day and deleted after it,
// so hashes of different days cannot be linked, nor reversed once the day is over.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table page_views (
      id bigserial primary key,
      day date not null,
      viewed_at timestamptz not null default now(),
      path text not null,
      post_id uuid,
      referrer_host text,
      device text not null check (device in ('desktop', 'mobile', 'tablet', 'other')),
      visitor_hash text not null
    )
  `.execute(db);
  await sql`create index idx_page_views_day on page_views (day)`.execute(db);
  await sql`create index idx_page_views_post on page_views (post_id, day) where post_id is not null`.execute(db);

  await sql`
    create table analytics_salts (
      day date primary key,
      salt text not null,
      created_at timestamptz not null default now()
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists analytics_salts`.execute(db);
  await sql`drop table if exists page_views`.execute(db);
}
