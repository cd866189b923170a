import { type Kysely, sql } from 'kysely';

// Posts of the operator's site, and every earlier state of each (post_revisions). A revision row
// is the post as it was before an update or restore replaced it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table posts (
      id uuid primary key default gen_random_uuid(),
      slug text not null,
      title text not null,
      body text not null default '',
      excerpt text,
      tags text[] not null default '{}',
      meta_title text,
      meta_description text,
      canonical_url text,
      keywords text[] not null default '{}',
      cover_media_id uuid references media (id) on delete set null,
      cover_image_url text,
      cover_image_alt text,
      author_type text not null default 'operator' check (author_type in ('operator', 'agent')),
      author_agent_id uuid,
      author_name text,
      status text not null default 'draft' check (status in ('draft', 'scheduled', 'published', 'archived')),
      scheduled_for timestamptz,
      published_at timestamptz,
      revision integer not null default 1,
      created_by_key_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint posts_scheduled_has_time check (status <> 'scheduled' or scheduled_for is not null),
      constraint posts_published_has_time check (status <> 'published' or published_at is not null)
    )
  `.execute(db);
  await sql`create unique index idx_posts_slug on posts (slug)`.execute(db);
  await sql`create index idx_posts_created on posts (created_at desc, id desc)`.execute(db);
  await sql`create index idx_posts_published on posts (published_at desc, id desc) where status = 'published'`.execute(
    db,
  );
  await sql`create index idx_posts_due on posts (scheduled_for) where status = 'scheduled'`.execute(db);
  await sql`create index idx_posts_tags on posts using gin (tags)`.execute(db);

  await sql`
    create table post_revisions (
      id uuid primary key default gen_random_uuid(),
      post_id uuid not null references posts (id) on delete cascade,
      revision integer not null,
      slug text not null,
      title text not null,
      body text not null,
      excerpt text,
      tags text[] not null default '{}',
      meta_title text,
      meta_description text,
      canonical_url text,
      keywords text[] not null default '{}',
      cover_media_id uuid,
      cover_image_url text,
      cover_image_alt text,
      author_type text not null,
      author_agent_id uuid,
      author_name text,
      change text not null check (change in ('update', 'restore')),
      replaced_at timestamptz not null default now(),
      replaced_by_key_id uuid,
      unique (post_id, revision)
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists post_revisions`.execute(db);
  await sql`drop table if exists posts`.execute(db);
}
