import {
  type ActionData,
  type ActionOutput,
  OraError,
  type SyncClientState,
  SyncConversationData,
  SyncMemoryData,
  SyncMessage,
} from '@ora/contracts';
import type { SyncClientRow } from '@ora/db';
import { loadTokenCounter } from '@ora/retrieval';
import { type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import { recordEvent } from '../events/events';
import { MEMORY_COLUMNS, type StoredMemory } from '../memory/memory.repository';
import { enqueueEmbedding, storedFields, updateMemoryRows } from '../memory/memory.service';
import { pageFrom, timeIdAfter } from '../shared/cursor';
import type { Actor, DbOrTx } from '../shared/deps';
import type { SyncDeps } from './sync.deps';
import { pullHorizon } from './sync.horizon';
import { conflictRowToConflict } from './sync.mapping';
import {
  deleteConversationRow,
  insertSyncMessages,
  reviveConversation,
  touchConversation,
  writeConversationFields,
} from './sync.push';

function clientState(row: SyncClientRow, pendingConflicts: number): SyncClientState {
  return {
    clientId: row.client_id,
    agentId: row.agent_id,
    lastMutationId: Number(row.last_mutation_id),
    lastPullCursor: String(row.last_pull_cursor),
    lastPushAt: row.last_push_at?.toISOString() ?? null,
    lastPullAt: row.last_pull_at?.toISOString() ?? null,
    pendingConflicts,
  };
}

const scoped = (actor: Actor, column: string) =>
  actor.agentId ? sql<SqlBool>`${sql.ref(column)} = ${actor.agentId}::uuid` : sql<SqlBool>`true`;

/** sync.status: the newest position a pull can reach, the clients and their cursors, conflicts, counts. */
export async function syncStatus(
  deps: SyncDeps,
  actor: Actor,
  input: ActionData<'sync.status'>,
): Promise<ActionOutput<'sync.status'>> {
  const horizon = await pullHorizon(deps.db, deps.sync.horizonWaitMs);
  const clients = await deps.db
    .selectFrom('sync_clients')
    .selectAll()
    .where(scoped(actor, 'agent_id'))
    .orderBy(sql`greatest(last_push_at, last_pull_at, created_at)`, 'desc')
    .limit(100)
    .execute();
  const mine = input.clientId
    ? (clients.find((c) => c.client_id === input.clientId) ??
      (await deps.db
        .selectFrom('sync_clients')
        .selectAll()
        .where('client_id', '=', input.clientId)
        .where(scoped(actor, 'agent_id'))
        .executeTakeFirst()))
    : undefined;
  const pendingByClient = await deps.db
    .selectFrom('sync_conflicts')
    .select(['client_id', sql<string>`count(*)::text`.as('n')])
    .where('status', '=', 'pending')
    .where(scoped(actor, 'agent_id'))
    .groupBy('client_id')
    .execute();
  const pendingOf = (id: string) => Number(pendingByClient.find((p) => p.client_id === id)?.n ?? 0);
  const pending = await deps.db
    .selectFrom('sync_conflicts')
    .selectAll()
    .where('status', '=', 'pending')
    .where(scoped(actor, 'agent_id'))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(100)
    .execute();
  const noSync = [...deps.memory.settings.noSyncTypes];
  const { rows } = await sql<{
    memories: string;
    conversations: string;
    tombstones: string;
    pending: string;
    resolved: string;
  }>`
    select
      (select count(*) from agent_memory where deleted_at is null and not is_archived and sync_enabled
        ${noSync.length ? sql`and memory_type not in (${sql.join(noSync)})` : sql``} and ${scoped(actor, 'agent_id')})::text as memories,
      (select count(*) from agent_conversations where deleted_at is null and ${scoped(actor, 'agent_id')})::text as conversations,
      ((select count(*) from agent_memory where deleted_at is not null and ${scoped(actor, 'agent_id')})
        + (select count(*) from agent_conversations where deleted_at is not null and ${scoped(actor, 'agent_id')})
        + (select count(*) from sync_tombstones where ${scoped(actor, 'agent_id')}))::text as tombstones,
      (select count(*) from sync_conflicts where status = 'pending' and ${scoped(actor, 'agent_id')})::text as pending,
      (select count(*) from sync_conflicts where status = 'resolved' and ${scoped(actor, 'agent_id')})::text as resolved
  `.execute(deps.db);
  const counts = rows[0];
  const lastSyncAt = mine
    ? ([mine.last_push_at, mine.last_pull_at]
        .filter((d): d is Date => d !== null)
        .sort((a, b) => b.getTime() - a.getTime())[0]
        ?.toISOString() ?? null)
    : null;
  return {
    serverVersion: horizon?.horizon ?? '0',
    lastSyncAt,
    client: mine ? clientState(mine, pendingOf(mine.client_id)) : null,
    clients: clients.map((c) => clientState(c, pendingOf(c.client_id))),
    pendingConflicts: pending.map(conflictRowToConflict),
    counts: {
      memories: Number(counts?.memories ?? 0),
      conversations: Number(counts?.conversations ?? 0),
      tombstones: Number(counts?.tombstones ?? 0),
      conflictsPending: Number(counts?.pending ?? 0),
      conflictsResolved: Number(counts?.resolved ?? 0),
    },
    serverTime: deps.clock.now().toISOString(),
  };
}

/** sync.conflicts: newest first, by status or client, with both versions. */
export async function listConflicts(
  deps: Pick<SyncDeps, 'db'>,
  actor: Actor,
  input: ActionData<'sync.conflicts'>,
): Promise<ActionOutput<'sync.conflicts'>> {
  let query = deps.db
    .selectFrom('sync_conflicts')
    .selectAll()
    .where(scoped(actor, 'agent_id'))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.status) query = query.where('status', '=', input.status);
  if (input.clientId) query = query.where('client_id', '=', input.clientId);
  const after = timeIdAfter(input.cursor);
  if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after[0], after[1])));
  const rows = await query.execute();
  return pageFrom(rows, input.limit, (r) => [r.created_at.toISOString(), r.id], conflictRowToConflict);
}

const LocalMessages = z.object({ messages: z.array(SyncMessage).min(1) });

/**
 * sync.resolve: settles a conflict (a manual one waiting, or restores the losing side of one a
 * strategy settled) by keeping the server's version, the client's, or a merged value. Applying it
 * writes a new version of the row (also when the server's is kept), so every replica pulls it.
 */
export async function resolveConflict(
  deps: SyncDeps,
  actor: Actor,
  input: ActionData<'sync.resolve'>,
): Promise<ActionOutput<'sync.resolve'>> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('sync_conflicts')
      .selectAll()
      .where('id', '=', input.conflictId)
      .where(scoped(actor, 'agent_id'))
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No sync conflict with id ${input.conflictId}` });
    if (row.outcome?.startsWith('resolved_')) {
      throw new OraError({
        code: 'CONFLICT',
        message: `Conflict ${row.id} was resolved already (${row.outcome}) at ${row.resolved_at?.toISOString()}`,
      });
    }
    const conflict = conflictRowToConflict(row);
    if (input.keep === 'merged' && input.merged === undefined) {
      throw new OraError({ code: 'VALIDATION_ERROR', message: 'keep "merged" needs the merged value in `merged`' });
    }
    // Keeping the server's side of a conflict its strategy gave to the client (or merged) restores
    // the server's snapshot; of one that kept the server's copy (or waits), it is a new version.
    const restoreServer = row.outcome === 'local_applied' || row.outcome === 'merged';
    const chosen =
      input.keep === 'local'
        ? conflict.localVersion.content
        : input.keep === 'merged'
          ? input.merged
          : restoreServer
            ? conflict.serverVersion.content
            : undefined;

    let serverVersion: string | null;
    let written: StoredMemory[] = [];
    if (row.entity_type === 'memory') {
      const applied = await resolveMemory(deps, trx, actor, row.entity_id, input.keep, chosen);
      serverVersion = applied.serverVersion;
      written = applied.written;
    } else {
      serverVersion = await resolveConversation(trx, row.entity_id, input.keep, chosen);
    }

    const updated = await trx
      .updateTable('sync_conflicts')
      .set({
        status: 'resolved',
        outcome: `resolved_${input.keep}`,
        resolved_at: sql<Date>`now()`,
        resolved_by_key_id: actor.keyId,
        ...(input.keep === 'merged'
          ? {
              merged_version: JSON.stringify({
                content: chosen,
                updatedAt: deps.clock.now().toISOString(),
                syncId: row.entity_id,
                serverVersion,
              }),
            }
          : {}),
      })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordEvent(
      trx,
      actor,
      'sync.conflict',
      {
        conflictId: row.id,
        clientId: row.client_id ?? '',
        entityType: row.entity_type,
        entityId: row.entity_id,
        strategy: row.strategy,
        status: 'resolved',
      },
      { agentId: row.agent_id },
    );
    await recordAudit(trx, actor, {
      action: 'sync.resolve',
      targetType: 'sync_conflict',
      targetId: row.id,
      details: { keep: input.keep, entityType: row.entity_type, entityId: row.entity_id, serverVersion },
    });
    return { conflict: conflictRowToConflict(updated), serverVersion, written };
  });
  await enqueueEmbedding(deps, result.written);
  return { conflict: result.conflict, serverVersion: result.serverVersion };
}

async function resolveMemory(
  deps: SyncDeps,
  trx: DbOrTx,
  actor: Actor,
  id: string,
  keep: 'server' | 'local' | 'merged',
  chosen: unknown,
): Promise<{ serverVersion: string | null; written: StoredMemory[] }> {
  const current = await trx
    .selectFrom('agent_memory')
    .select(MEMORY_COLUMNS)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw new OraError({ code: 'NOT_FOUND', message: `The memory ${id} of this conflict is gone` });
  if (chosen === undefined) {
    const [row] = await updateMemoryRows(trx, [id], {}, 'update', actor);
    return { serverVersion: String((row as StoredMemory).server_version), written: [] };
  }
  if (chosen === null) {
    if (current.deleted_at !== null) {
      const [row] = await updateMemoryRows(trx, [id], {}, 'delete', actor);
      return { serverVersion: String((row as StoredMemory).server_version), written: [] };
    }
    const [row] = await updateMemoryRows(trx, [id], { deleted_at: deps.clock.now(), source: 'sync' }, 'delete', actor);
    return { serverVersion: String((row as StoredMemory).server_version), written: [] };
  }
  const parsed = SyncMemoryData.safeParse(chosen);
  if (!parsed.success) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `The ${keep} value is not a memory (SyncMemoryData): ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    });
  }
  const d = parsed.data;
  if (d.agentId !== current.agent_id || d.type !== current.memory_type || d.key !== current.key) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: 'The merged value must keep the memory’s agentId, type and key',
    });
  }
  const fields = storedFields(deps.memory.settings, d.agentId, d.type, d.key, d.content, d.summary);
  const [row] = await updateMemoryRows(
    trx,
    [id],
    {
      ...fields,
      importance: d.importance,
      is_pinned: d.pinned,
      expires_at: d.expiresAt === null ? null : new Date(d.expiresAt),
      deleted_at: null,
      source: 'sync',
      ...(fields.content_hash !== current.content_hash || fields.is_encrypted ? { embedded_at: null } : {}),
    },
    'update',
    actor,
  );
  return { serverVersion: String((row as StoredMemory).server_version), written: [row as StoredMemory] };
}

async function resolveConversation(
  trx: DbOrTx,
  id: string,
  keep: 'server' | 'local' | 'merged',
  chosen: unknown,
): Promise<string | null> {
  const current = await trx
    .selectFrom('agent_conversations')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw new OraError({ code: 'NOT_FOUND', message: `The conversation ${id} of this conflict is gone` });
  if (chosen === undefined) return String((await touchConversation(trx, id)).server_version);
  if (chosen === null) {
    const row =
      current.deleted_at === null
        ? await deleteConversationRow(trx, id, new Date().toISOString())
        : await touchConversation(trx, id);
    return String(row.server_version);
  }
  const messages = LocalMessages.safeParse(chosen);
  if (messages.success) {
    const revived = current.deleted_at === null ? current : await reviveConversation(trx, current, null);
    const row = await insertSyncMessages(trx, revived, messages.data.messages, await loadTokenCounter(), true);
    return String(row.server_version);
  }
  const parsed = SyncConversationData.safeParse(chosen);
  if (!parsed.success) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `The ${keep} value is not a conversation (SyncConversationData): ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    });
  }
  if (parsed.data.agentId !== current.agent_id) {
    throw new OraError({ code: 'VALIDATION_ERROR', message: 'The merged value must keep the conversation’s agentId' });
  }
  return String((await writeConversationFields(trx, current, parsed.data)).server_version);
}
