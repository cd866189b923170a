import { type Kysely, sql } from 'kysely';

// What the sync engine needs on top of the sync tables.
//
// The pull horizon: a sync pull may only hand out a cursor below which no row can still appear.
// Versions come from one sequence, so a transaction can draw a version and commit after another
// one's higher version is visible. A pull reads the sequence's last value L, then the first
// unassigned transaction id X, and waits until every transaction below X has ended; then every
// version <= L is final (packages/core/src/sync/sync.horizon.ts). That holds only if a version is
// always drawn AFTER its transaction has an id. A `nextval` in an UPDATE's SET list or a column
// default is evaluated before the row is written (when a first write assigns the id), so these
// triggers draw the version again, after `pg_current_xact_id()` has made sure the id exists. The
// first draw is wasted (gaps in the sequence are harmless). A writer still marks a synced change
// by setting server_version (or seq) to nextval: the triggers fire only for those columns, so an
// update of access counts or embeddings does not make a row travel again.
//
// Hard deletes (an agent's rows going with it) leave a tombstone, so pulls report them.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function ora_sync_stamp_version() returns trigger language plpgsql as $$
    begin
      perform pg_current_xact_id();
      new.server_version := nextval('sync_version_seq');
      return new;
    end
    $$
  `.execute(db);
  await sql`
    create function ora_sync_stamp_seq() returns trigger language plpgsql as $$
    begin
      perform pg_current_xact_id();
      new.seq := nextval('sync_version_seq');
      return new;
    end
    $$
  `.execute(db);
  for (const table of ['agent_memory', 'agent_conversations', 'sync_tombstones']) {
    await sql`
      create trigger ${sql.id(`${table}_sync_stamp`)}
      before insert or update of server_version on ${sql.id(table)}
      for each row execute function ora_sync_stamp_version()
    `.execute(db);
  }
  await sql`
    create trigger conversation_messages_sync_stamp
    before insert or update of seq on conversation_messages
    for each row execute function ora_sync_stamp_seq()
  `.execute(db);

  await sql`
    create function ora_sync_tombstone() returns trigger language plpgsql as $$
    begin
      insert into sync_tombstones (entity_type, entity_id, agent_id)
      values (tg_argv[0], old.id, old.agent_id)
      on conflict (entity_type, entity_id) do update
        set server_version = nextval('sync_version_seq'), deleted_at = now(), agent_id = excluded.agent_id;
      return old;
    end
    $$
  `.execute(db);
  await sql`
    create trigger agent_memory_sync_tombstone after delete on agent_memory
    for each row execute function ora_sync_tombstone('memory')
  `.execute(db);
  await sql`
    create trigger agent_conversations_sync_tombstone after delete on agent_conversations
    for each row execute function ora_sync_tombstone('conversation')
  `.execute(db);

  // A mutation's outcome as columns: the conflict check reads a client's latest write of a row.
  // took_local: the row was left holding exactly this mutation's value (applied, or a conflict the
  // client's side won), so the client's next mutation of that row, made on the same base before
  // it heard back, continues it rather than conflicting with it.
  await sql`
    alter table sync_mutations
      add column status text check (status in ('applied', 'conflict', 'refused')),
      add column server_version bigint,
      add column took_local boolean not null default false
  `.execute(db);
  await sql`
    create index idx_sync_mutations_client_entity on sync_mutations (client_id, entity_id, mutation_id)
  `.execute(db);
  // Every lookup of the log is per client: the (entity_type, entity_id) index only costs writes.
  await sql`drop index if exists idx_sync_mutations_entity`.execute(db);

  // Pulls of a key bound to an agent.
  await sql`
    create index idx_agent_memory_agent_server_version on agent_memory (agent_id, server_version)
  `.execute(db);
  await sql`
    create index idx_conversations_agent_server_version on agent_conversations (agent_id, server_version)
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists idx_conversations_agent_server_version`.execute(db);
  await sql`drop index if exists idx_agent_memory_agent_server_version`.execute(db);
  await sql`create index if not exists idx_sync_mutations_entity on sync_mutations (entity_type, entity_id)`.execute(
    db,
  );
  await sql`drop index if exists idx_sync_mutations_client_entity`.execute(db);
  await sql`alter table sync_mutations drop column if exists took_local, drop column if exists server_version, drop column if exists status`.execute(
    db,
  );
  await sql`drop trigger if exists agent_conversations_sync_tombstone on agent_conversations`.execute(db);
  await sql`drop trigger if exists agent_memory_sync_tombstone on agent_memory`.execute(db);
  await sql`drop function if exists ora_sync_tombstone()`.execute(db);
  await sql`drop trigger if exists conversation_messages_sync_stamp on conversation_messages`.execute(db);
  for (const table of ['agent_memory', 'agent_conversations', 'sync_tombstones']) {
    await sql`drop trigger if exists ${sql.id(`${table}_sync_stamp`)} on ${sql.id(table)}`.execute(db);
  }
  await sql`drop function if exists ora_sync_stamp_seq()`.execute(db);
  await sql`drop function if exists ora_sync_stamp_version()`.execute(db);
}
