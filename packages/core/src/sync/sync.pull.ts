import {
  type ActionData,
  type ActionOutput,
  OraError,
  type SyncPulledConversation,
  type SyncPulledMemory,
  type SyncTombstone,
} from '@ora/contracts';
import { type SqlBool, sql } from 'kysely';
import type { Actor, DbOrTx } from '../shared/deps';
import type { SyncDeps } from './sync.deps';
import { pullHorizon } from './sync.horizon';
import { memoryRowToSyncData, SYNCED_MEMORY_COLUMNS } from './sync.mapping';

type PullInput = ActionData<'sync.pull'>;

type PullOutput = ActionOutput<'sync.pull'>;

/**
 * sync.pull: the changes with a version after the cursor and at most the horizon (see
 * `pullHorizon`: nothing can still appear below it), in pages of `limit` changes. A change is a
 * memory, a conversation, a message or a tombstone, each with its own version; a page ends at the
 * version of its last change, so the next page starts exactly after it. A row changed again while
 * a client pages moves above the horizon and comes in a later pull: each row comes at its newest.
 *
 * What a client may not have leaves as a tombstone: deleted and archived memories, memories that
 * do not sync (`sync: false`, a type in ORA_MEMORY_NOSYNC_TYPES: only the id leaves the server),
 * deleted conversations, and hard-deleted rows (sync_tombstones).
 */
export async function pullChanges(deps: SyncDeps, actor: Actor, input: PullInput): Promise<PullOutput> {
  const now = deps.clock.now();
  const after = input.cursor ?? '0';
  const limit = input.limit;
  const wantMemories = !input.types || input.types.includes('memory');
  const wantConversations = !input.types || input.types.includes('conversation');
  const since = input.since ? new Date(input.since) : null;
  if (input.clientId) await assertClientScope(deps.db, actor, input.clientId);

  const found = await pullHorizon(deps.db, deps.sync.horizonWaitMs, after);
  if (!found) {
    deps.log.warn(
      { waitMs: deps.sync.horizonWaitMs },
      'sync pull: a long transaction holds the horizon back; answering no changes this time',
    );
  }
  const horizon = found && BigInt(found.horizon) > BigInt(after) ? found.horizon : after;
  const empty: PullOutput = {
    memories: [],
    conversations: [],
    tombstones: [],
    cursor: after,
    hasMore: false,
    serverTime: now.toISOString(),
  };
  if (horizon === after) {
    await rememberPull(deps.db, actor, input.clientId, after);
    return empty;
  }

  const agent = actor.agentId;
  const range = (column: string) =>
    sql<SqlBool>`${sql.ref(column)} > ${after}::bigint and ${sql.ref(column)} <= ${horizon}::bigint`;
  const scope = (column: string) => (agent ? sql<SqlBool>`${sql.ref(column)} = ${agent}::uuid` : sql<SqlBool>`true`);
  const sinceOn = (column: string) => (since ? sql<SqlBool>`${sql.ref(column)} >= ${since}` : sql<SqlBool>`true`);

  // Where this page ends: the limit-th smallest change version in the range.
  const parts = [];
  if (wantMemories) {
    parts.push(sql`(select server_version as v, 'memory' as src from agent_memory
      where ${range('server_version')} and ${scope('agent_id')} and ${sinceOn('updated_at')}
      order by server_version limit ${limit})`);
  }
  if (wantConversations) {
    parts.push(sql`(select server_version as v, 'conversation' as src from agent_conversations
      where ${range('server_version')} and ${scope('agent_id')} and ${sinceOn('updated_at')}
      order by server_version limit ${limit})`);
    parts.push(sql`(select m.seq as v, 'message' as src from conversation_messages m
      ${agent ? sql`join agent_conversations c on c.id = m.conversation_id and c.agent_id = ${agent}::uuid` : sql``}
      where ${range('m.seq')} and ${sinceOn('m.created_at')}
      order by m.seq limit ${limit})`);
  }
  const tombstoneTypes = [...(wantMemories ? ['memory'] : []), ...(wantConversations ? ['conversation'] : [])];
  parts.push(sql`(select server_version as v, 'tombstone' as src from sync_tombstones
    where ${range('server_version')} and ${scope('agent_id')} and ${sinceOn('deleted_at')}
      and entity_type in (${sql.join(tombstoneTypes)})
    order by server_version limit ${limit})`);
  // One row back: how many changes the page holds, the last one's version, and their kinds.
  const bound = await sql<{ n: number; last: string | null; kinds: string[] | null }>`
    select count(*)::int as n, max(v)::text as last, array_agg(distinct src) as kinds
    from (select v, src from (${sql.join(parts, sql` union all `)}) s order by v limit ${limit}) page
  `.execute(deps.db);
  const head = bound.rows[0];
  const full = (head?.n ?? 0) >= limit;
  const upper = full ? (head?.last as string) : horizon;
  // Only the kinds of change this page holds are read.
  const present = new Set(head?.kinds ?? []);
  const inPage = (column: string) =>
    sql<SqlBool>`${sql.ref(column)} > ${after}::bigint and ${sql.ref(column)} <= ${upper}::bigint`;

  const memories: SyncPulledMemory[] = [];
  const tombstones: SyncTombstone[] = [];
  if (present.has('memory')) {
    const rows = await deps.db
      .selectFrom('agent_memory')
      .select(SYNCED_MEMORY_COLUMNS)
      .where(inPage('server_version'))
      .where(scope('agent_id'))
      .where(sinceOn('updated_at'))
      .orderBy('server_version')
      .execute();
    const noSync = deps.memory.settings.noSyncTypes;
    for (const row of rows) {
      const gone = row.deleted_at !== null || row.is_archived || !row.sync_enabled || noSync.has(row.memory_type);
      if (gone) {
        tombstones.push({
          type: 'memory',
          id: row.id,
          serverVersion: String(row.server_version),
          deletedAt: (row.deleted_at ?? row.updated_at).toISOString(),
        });
        continue;
      }
      memories.push({
        ...memoryRowToSyncData(row, deps.memory.settings.encryptionKey),
        id: row.id,
        serverVersion: String(row.server_version),
        version: row.version,
        createdAt: row.created_at.toISOString(),
      });
    }
  }

  const conversations: SyncPulledConversation[] = [];
  if (present.has('conversation') || present.has('message')) {
    const changed = !present.has('conversation')
      ? []
      : await deps.db
          .selectFrom('agent_conversations')
          .selectAll()
          .where(inPage('server_version'))
          .where(scope('agent_id'))
          .where(sinceOn('updated_at'))
          .orderBy('server_version')
          .execute();
    const messages = !present.has('message')
      ? []
      : await deps.db
          .selectFrom('conversation_messages as m')
          .innerJoin('agent_conversations as c', 'c.id', 'm.conversation_id')
          .select(['m.conversation_id', 'm.id', 'm.seq', 'm.role', 'm.content', 'm.metadata', 'm.created_at'])
          .where(inPage('m.seq'))
          .where('c.deleted_at', 'is', null)
          .where(scope('c.agent_id'))
          .where(sinceOn('m.created_at'))
          .orderBy('m.seq')
          .execute();
    // A conversation whose messages are in this page travels with them (its current fields).
    const extraIds = [
      ...new Set(messages.map((m) => m.conversation_id).filter((id) => !changed.some((c) => c.id === id))),
    ];
    const extra =
      extraIds.length === 0
        ? []
        : await deps.db.selectFrom('agent_conversations').selectAll().where('id', 'in', extraIds).execute();
    const byConversation = new Map<string, typeof messages>();
    for (const m of messages) {
      const list = byConversation.get(m.conversation_id) ?? [];
      list.push(m);
      byConversation.set(m.conversation_id, list);
    }
    for (const row of [...changed, ...extra]) {
      if (row.deleted_at !== null) {
        tombstones.push({
          type: 'conversation',
          id: row.id,
          serverVersion: String(row.server_version),
          deletedAt: row.deleted_at.toISOString(),
        });
        continue;
      }
      conversations.push({
        id: row.id,
        agentId: row.agent_id,
        title: row.title,
        status: row.status,
        updatedAt: row.updated_at.toISOString(),
        serverVersion: String(row.server_version),
        createdAt: row.created_at.toISOString(),
        messages: (byConversation.get(row.id) ?? []).map((m) => ({
          id: m.id,
          role: m.role,
          content: m.content,
          metadata: (m.metadata ?? {}) as Record<string, unknown>,
          createdAt: m.created_at.toISOString(),
          seq: String(m.seq),
        })),
      });
    }
  }

  // Hard-deleted rows (and ids of new memories that landed on another row holding their key);
  // an id that exists as a row again is reported by its row instead.
  const hard = !present.has('tombstone')
    ? []
    : await deps.db
        .selectFrom('sync_tombstones as t')
        .select(['t.entity_type', 't.entity_id', 't.server_version', 't.deleted_at'])
        .where(inPage('t.server_version'))
        .where(scope('t.agent_id'))
        .where(sinceOn('t.deleted_at'))
        .where('t.entity_type', 'in', tombstoneTypes as Array<'memory' | 'conversation'>)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('agent_memory as r')
                .select('r.id')
                .where(sql<SqlBool>`t.entity_type = 'memory' and r.id = t.entity_id`)
                .unionAll(
                  selectFrom('agent_conversations as r')
                    .select('r.id')
                    .where(sql<SqlBool>`t.entity_type = 'conversation' and r.id = t.entity_id`),
                ),
            ),
          ),
        )
        .orderBy('t.server_version')
        .execute();
  for (const t of hard) {
    tombstones.push({
      type: t.entity_type,
      id: t.entity_id,
      serverVersion: String(t.server_version),
      deletedAt: t.deleted_at.toISOString(),
    });
  }
  tombstones.sort((a, b) => (BigInt(a.serverVersion) < BigInt(b.serverVersion) ? -1 : 1));

  await rememberPull(deps.db, actor, input.clientId, upper);
  return {
    memories,
    conversations,
    tombstones,
    cursor: upper,
    hasMore: BigInt(upper) < BigInt(horizon),
    serverTime: now.toISOString(),
  };
}

/** A client id used by a key bound to an agent belongs to that agent. */
async function assertClientScope(db: DbOrTx, actor: Actor, clientId: string): Promise<void> {
  if (!actor.agentId) return;
  const row = await db
    .selectFrom('sync_clients')
    .select('agent_id')
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (row && row.agent_id !== actor.agentId) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: `Sync client ${clientId} belongs to another scope; a key bound to an agent uses its own client ids`,
    });
  }
}

async function rememberPull(db: DbOrTx, actor: Actor, clientId: string | undefined, cursor: string): Promise<void> {
  if (!clientId) return;
  await db
    .insertInto('sync_clients')
    .values({
      client_id: clientId,
      key_id: actor.keyId,
      agent_id: actor.agentId,
      last_pull_cursor: cursor,
      last_pull_at: sql<Date>`now()`,
    })
    .onConflict((oc) =>
      oc.column('client_id').doUpdateSet({
        last_pull_cursor: sql<string>`greatest(sync_clients.last_pull_cursor, excluded.last_pull_cursor)`,
        last_pull_at: sql<Date>`now()`,
      }),
    )
    .execute();
}
