import { type Kysely, sql } from 'kysely';

// Uploaded files: the bytes live in a media store (local disk or S3), the row says where and what
// they are. content_type is what the server sniffed from the bytes, never the uploader's claim.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table media (
      id uuid primary key default gen_random_uuid(),
      filename text not null,
      content_type text not null,
      size_bytes integer not null check (size_bytes >= 0),
      sha256 text not null,
      alt text,
      storage text not null check (storage in ('local', 's3')),
      storage_key text not null,
      created_by_key_id uuid,
      created_by_agent_id uuid,
      created_at timestamptz not null default now()
    )
  `.execute(db);
  await sql`create index idx_media_created on media (created_at desc, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists media`.execute(db);
}
