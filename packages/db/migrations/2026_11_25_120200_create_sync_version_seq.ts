import { type Kysely, sql } from 'kysely';

// One monotonic sequence for every synced row (memories, conversations, their messages,
// tombstones): a sync cursor is a single number across all of them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence sync_version_seq as bigint start with 1`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop sequence if exists sync_version_seq`.execute(db);
}
