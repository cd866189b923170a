import { randomUUID } from 'node:crypto';
import {
  type ActionData,
  type ActionOutput,
  type MemoryType,
  OraError,
  type SyncConflict,
  type SyncConversationData,
  type SyncConversationMutation,
  type SyncMemoryData,
  type SyncMemoryMutation,
  type SyncMessage,
  type SyncMutationResult,
  type SyncStrategy,
  type SyncVersionSnapshot,
} from '@ora/contracts';
import type { ConversationRow } from '@ora/db';
import { loadTokenCounter } from '@ora/retrieval';
import {
  type ConflictSide,
  chooseStrategy,
  isConflict,
  jsonEqual,
  mergeConversationData,
  mergeMemoryData,
  settleConflict,
} from '@ora/sync-core';
import { type RawBuilder, sql } from 'kysely';
import { type PendingEvent, recordEvents } from '../events/events';
import { ORA_OWNER, type StoredMemory } from '../memory/memory.repository';
import { enqueueEmbedding, storedFields } from '../memory/memory.service';
import type { Actor, DbOrTx } from '../shared/deps';
import { plainArray, textArray } from '../shared/pg-arrays';
import type { SyncDeps } from './sync.deps';
import {
  conflictRowToConflict,
  isRetryable,
  memoryRowToSyncData,
  SYNCED_MEMORY_COLUMNS,
  type SyncedMemory,
} from './sync.mapping';

type PushInput = ActionData<'sync.push'>;
type PushOutput = ActionOutput<'sync.push'>;

type Entry =
  | { entity: 'memory'; mutation: SyncMemoryMutation }
  | { entity: 'conversation'; mutation: SyncConversationMutation };

type Status = 'applied' | 'conflict' | 'refused';

/** What one new mutation came to, before the versions of the rows it wrote are known. */
interface Outcome {
  entry: Entry;
  status: Status;
  /** The row it landed on (a redirected new memory lands on the row holding its key). */
  entityId: string | null;
  /** The row was left holding exactly this mutation's value. */
  tookLocal: boolean;
  reason?: string;
  conflict?: ConflictDraft;
}

interface ConflictDraft {
  id: string;
  mutationId: number;
  entityType: 'memory' | 'conversation';
  entityId: string;
  agentId: string | null;
  strategy: SyncStrategy;
  outcome: 'server_kept' | 'local_applied' | 'merged' | 'pending';
  local: SyncVersionSnapshot;
  server: SyncVersionSnapshot;
  merged: SyncVersionSnapshot | null;
  baseVersion: string | null;
}

/** A client's latest mutation of a row: a later one made on the same base continues it. */
interface OwnWrite {
  base: string | null;
  version: string | null;
  tookLocal: boolean;
}

/** Stands for "written in this batch, version drawn at commit" in the conflict check. */
const PENDING = 'pending';

function continues(own: OwnWrite | undefined, current: string | null, base: string | null): boolean {
  return own?.tookLocal === true && own.version === current && own.base === base;
}

/**
 * sync.push: applies one client's mutations strictly in mutation id order (both lists merged),
 * in batches of `pushBatchSize`. Each batch is one transaction that locks the client's row, skips
 * what the client already sent (answered from the stored result: `replayed`), refuses a gap,
 * applies the rest, records every mutation's result and moves `last_mutation_id`, all in one
 * commit: a push cut off anywhere is either applied with its record or not at all, and a retry is
 * answered, never applied twice. Memory writes are set-based (a few statements per batch).
 */
export async function pushMutations(deps: SyncDeps, actor: Actor, input: PushInput): Promise<PushOutput> {
  const entries: Entry[] = [
    ...input.memories.map((mutation): Entry => ({ entity: 'memory', mutation })),
    ...input.conversations.map((mutation): Entry => ({ entity: 'conversation', mutation })),
  ].sort((a, b) => a.mutation.mutationId - b.mutation.mutationId);
  for (let i = 1; i < entries.length; i++) {
    if ((entries[i] as Entry).mutation.mutationId === (entries[i - 1] as Entry).mutation.mutationId) {
      throw new OraError({
        code: 'VALIDATION_ERROR',
        message: `Mutation id ${(entries[i] as Entry).mutation.mutationId} is sent twice: each mutation has its own id`,
      });
    }
  }

  const results: SyncMutationResult[] = [];
  const conflicts: Array<{
    entity: 'memory' | 'conversation';
    syncId: string;
    mutationId: number;
    conflict: SyncConflict;
  }> = [];
  let lastMutationId = 0;
  const size = Math.max(1, deps.sync.pushBatchSize);
  const batches: Entry[][] = [];
  for (let i = 0; i < entries.length; i += size) batches.push(entries.slice(i, i + size));
  if (batches.length === 0) batches.push([]);

  for (const batch of batches) {
    let answer: BatchAnswer | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        answer = await deps.db.transaction().execute((trx) => pushBatch(deps, trx, actor, input, batch));
        break;
      } catch (error) {
        if (isRetryable(error) && attempt < 4) continue;
        throw error;
      }
    }
    results.push(...answer.results);
    conflicts.push(...answer.conflicts);
    lastMutationId = answer.lastMutationId;
    await enqueueEmbedding(deps, answer.written);
  }

  const entityOf = new Map(entries.map((e) => [e.mutation.mutationId, e.entity]));
  const section = (entity: 'memory' | 'conversation') => ({
    acked: [
      ...new Set(
        results.filter((r) => entityOf.get(r.mutationId) === entity && r.status !== 'refused').map((r) => r.syncId),
      ),
    ],
    conflicts: conflicts
      .filter((c) => c.entity === entity)
      .map((c) => ({ syncId: c.syncId, mutationId: c.mutationId, conflict: c.conflict })),
  });
  return {
    results: { memories: section('memory'), conversations: section('conversation') },
    mutations: results,
    lastMutationId,
    serverTime: deps.clock.now().toISOString(),
  };
}

interface BatchAnswer {
  results: SyncMutationResult[];
  conflicts: Array<{ entity: 'memory' | 'conversation'; syncId: string; mutationId: number; conflict: SyncConflict }>;
  lastMutationId: number;
  written: WrittenMemory[];
}

async function pushBatch(
  deps: SyncDeps,
  trx: DbOrTx,
  actor: Actor,
  input: PushInput,
  batch: readonly Entry[],
): Promise<BatchAnswer> {
  const clientId = input.clientId;
  // Creates the client's row or locks it (an upsert takes the row lock): one push of a client at a time.
  const client = await trx
    .insertInto('sync_clients')
    .values({ client_id: clientId, key_id: actor.keyId, agent_id: actor.agentId })
    .onConflict((oc) => oc.column('client_id').doUpdateSet({ client_id: sql<string>`excluded.client_id` }))
    .returningAll()
    .executeTakeFirstOrThrow();
  if (actor.agentId && client.agent_id !== actor.agentId) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: `Sync client ${clientId} belongs to another scope; a key bound to an agent uses its own client ids`,
    });
  }
  const last = Number(client.last_mutation_id);
  const replays = batch.filter((e) => e.mutation.mutationId <= last);
  const fresh = batch.filter((e) => e.mutation.mutationId > last);
  fresh.forEach((e, i) => {
    if (e.mutation.mutationId !== last + 1 + i) {
      throw new OraError({
        code: 'CONFLICT',
        message: `Mutation ids must follow on without gaps: expected ${last + 1 + i}, got ${e.mutation.mutationId}; resend the mutations after ${last}`,
        details: { expectedMutationId: last + 1 + i, lastMutationId: last },
      });
    }
  });

  // Replays: the answer the mutation got the first time.
  const replayed = new Map<number, SyncMutationResult>();
  if (replays.length > 0) {
    const rows = await trx
      .selectFrom('sync_mutations')
      .select(['mutation_id', 'result', 'entity_id', 'status', 'server_version'])
      .where('client_id', '=', clientId)
      .where(
        'mutation_id',
        'in',
        replays.map((e) => String(e.mutation.mutationId)),
      )
      .execute();
    for (const row of rows) {
      // A plain answer (the mutation's own row, no conflict, no reason) is kept as its columns.
      const stored =
        (row.result as SyncMutationResult | null) ??
        (row.status !== null && row.entity_id !== null
          ? {
              mutationId: Number(row.mutation_id),
              syncId: row.entity_id,
              status: row.status,
              serverVersion: row.server_version === null ? null : String(row.server_version),
              conflictId: null,
            }
          : null);
      if (stored) replayed.set(Number(row.mutation_id), stored);
    }
  }

  const memoryOutcomes = await applyMemories(
    deps,
    trx,
    actor,
    input,
    fresh.flatMap((e) => (e.entity === 'memory' ? [e.mutation] : [])),
  );
  const conversationOutcomes = await applyConversations(
    deps,
    trx,
    actor,
    input,
    fresh.flatMap((e) => (e.entity === 'conversation' ? [e.mutation] : [])),
  );
  const outcomes = new Map<number, Outcome>([...memoryOutcomes.outcomes, ...conversationOutcomes.outcomes]);
  const versionOf = (entity: 'memory' | 'conversation', id: string | null): string | null =>
    id === null
      ? null
      : ((entity === 'memory' ? memoryOutcomes.versions : conversationOutcomes.versions).get(id) ?? null);

  const results: SyncMutationResult[] = [];
  const mutationRows: Array<{
    mutation_id: string;
    entity_type: 'memory' | 'conversation';
    entity_id: string | null;
    op: 'upsert' | 'delete' | 'append';
    base_version: string | null;
    result: string;
    status: Status;
    server_version: string | null;
    took_local: boolean;
  }> = [];
  const conflictRows: ConflictDraft[] = [];
  const conflictsOut: BatchAnswer['conflicts'] = [];
  const events: PendingEvent[] = [];
  const replayedConflictIds: string[] = [];

  for (const entry of batch) {
    const m = entry.mutation;
    const stored = replayed.get(m.mutationId);
    if (m.mutationId <= last) {
      const first = stored?.status === 'replayed' ? stored.replayedStatus : stored?.status;
      results.push({
        mutationId: m.mutationId,
        syncId: stored?.syncId ?? m.syncId,
        status: 'replayed',
        serverVersion: stored?.serverVersion ?? null,
        conflictId: stored?.conflictId ?? null,
        ...(stored?.reason ? { reason: stored.reason } : {}),
        ...(first ? { replayedStatus: first } : {}),
      });
      if (stored?.conflictId) replayedConflictIds.push(stored.conflictId);
      continue;
    }
    const outcome = outcomes.get(m.mutationId) as Outcome;
    const serverVersion = versionOf(entry.entity, outcome.entityId);
    const result: SyncMutationResult = {
      mutationId: m.mutationId,
      syncId: m.syncId,
      status: outcome.status,
      serverVersion,
      conflictId: outcome.conflict?.id ?? null,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    };
    results.push(result);
    mutationRows.push({
      mutation_id: String(m.mutationId),
      entity_type: entry.entity,
      entity_id: outcome.entityId,
      op: m.action,
      base_version: m.baseVersion,
      // A plain answer is told by the columns alone (see the replays above): no JSON to store.
      result: outcome.entityId === m.syncId && !result.conflictId && !result.reason ? 'null' : JSON.stringify(result),
      status: outcome.status,
      server_version: serverVersion,
      took_local: outcome.tookLocal,
    });
    if (outcome.conflict) {
      const c = outcome.conflict;
      if (c.merged) c.merged.serverVersion = serverVersion;
      conflictRows.push(c);
      events.push({
        type: 'sync.conflict',
        payload: {
          conflictId: c.id,
          clientId,
          entityType: c.entityType,
          entityId: c.entityId,
          strategy: c.strategy,
          status: c.outcome === 'pending' ? 'pending' : 'resolved',
        },
        context: { agentId: c.agentId },
      });
    }
  }

  if (conflictRows.length > 0) {
    const inserted = await trx
      .insertInto('sync_conflicts')
      .values(
        conflictRows.map((c) => ({
          id: c.id,
          client_id: clientId,
          mutation_id: String(c.mutationId),
          entity_type: c.entityType,
          entity_id: c.entityId,
          agent_id: c.agentId,
          strategy: c.strategy,
          status: c.outcome === 'pending' ? ('pending' as const) : ('resolved' as const),
          outcome: c.outcome,
          local_version: JSON.stringify(c.local),
          server_version: JSON.stringify(c.server),
          merged_version: c.merged ? JSON.stringify(c.merged) : null,
          base_version: c.baseVersion,
          resolved_at: c.outcome === 'pending' ? null : sql<Date>`now()`,
        })),
      )
      .returningAll()
      .execute();
    const byId = new Map(inserted.map((row) => [row.id, conflictRowToConflict(row)]));
    for (const entry of batch) {
      const outcome = outcomes.get(entry.mutation.mutationId);
      const c = outcome?.conflict ? byId.get(outcome.conflict.id) : undefined;
      if (c) {
        conflictsOut.push({
          entity: entry.entity,
          syncId: entry.mutation.syncId,
          mutationId: entry.mutation.mutationId,
          conflict: c,
        });
      }
    }
  }
  if (replayedConflictIds.length > 0) {
    const rows = await trx.selectFrom('sync_conflicts').selectAll().where('id', 'in', replayedConflictIds).execute();
    const byId = new Map(rows.map((row) => [row.id, conflictRowToConflict(row)]));
    for (const entry of replays) {
      const id = replayed.get(entry.mutation.mutationId)?.conflictId;
      const c = id ? byId.get(id) : undefined;
      if (c) {
        conflictsOut.push({
          entity: entry.entity,
          syncId: entry.mutation.syncId,
          mutationId: entry.mutation.mutationId,
          conflict: c,
        });
      }
    }
  }
  await recordEvents(trx, actor, events);
  const newLast = last + fresh.length;
  // The batch's record in one statement: each mutation's answer, the client's last mutation id,
  // and the audit row (like every mutation's; one per batch here).
  const count = (s: Status) => mutationRows.filter((r) => r.status === s).length;
  const audit = {
    fromMutationId: last + 1,
    toMutationId: newLast,
    applied: count('applied'),
    conflicts: conflictRows.map((c) => ({ id: c.id, entity: c.entityType, entityId: c.entityId, outcome: c.outcome })),
    refused: count('refused'),
  };
  const column = <T>(pick: (r: (typeof mutationRows)[number]) => T) => mutationRows.map(pick);
  await sql`
    with client as (
      update sync_clients
      set last_mutation_id = ${newLast}::bigint, last_push_at = now(), key_id = coalesce(key_id, ${actor.keyId}::uuid)
      where client_id = ${clientId}
    )
    ${
      mutationRows.length > 0
        ? sql`, logged as (
      insert into sync_mutations (client_id, mutation_id, entity_type, entity_id, op, base_version, result, status,
        server_version, took_local)
      select ${clientId}, v.mutation_id, v.entity_type, v.entity_id, v.op, v.base_version, nullif(v.result, 'null'), v.status,
        v.server_version, v.took_local
      from rows from (unnest(${plainArray(column((r) => r.mutation_id))}::bigint[]),
        unnest(${textArray(column((r) => r.entity_type))}::text[]), unnest(${textArray(column((r) => r.entity_id))}::uuid[]),
        unnest(${textArray(column((r) => r.op))}::text[]), unnest(${textArray(column((r) => r.base_version))}::bigint[]),
        jsonb_array_elements(${`[${column((r) => r.result).join(',')}]`}::jsonb),
        unnest(${textArray(column((r) => r.status))}::text[]), unnest(${textArray(column((r) => r.server_version))}::bigint[]),
        unnest(${plainArray(column((r) => r.took_local))}::bool[]))
        as v (mutation_id, entity_type, entity_id, op, base_version, result, status, server_version, took_local)
    ), audit as (
      insert into audit_log (key_id, action, target_type, target_id, ip, request_id, details)
      values (${actor.keyId}::uuid, 'sync.push', 'sync_client', ${clientId}, ${actor.ip}, ${actor.requestId},
        ${JSON.stringify(audit)}::jsonb)
    )`
        : sql``
    }
    select 1
  `.execute(trx);
  return { results, conflicts: conflictsOut, lastMutationId: newLast, written: memoryOutcomes.written };
}

// ---------------------------------------------------------------------------------------------
// Memories: loaded once per batch, decided in memory in mutation order, written set-based.

const LOADED_COLUMNS = SYNCED_MEMORY_COLUMNS.map((c) => `m.${c}`).join(', ');

interface MemoryState {
  id: string;
  row: SyncedMemory | null;
  /** The value now (null: deleted, or not created). */
  data: SyncMemoryData | null;
  identity: { agentId: string | null; type: MemoryType; key: string };
  syncEnabled: boolean;
  /** The committed version, or PENDING once written in this batch; null: no row. */
  version: string | null;
  updatedAt: string | null;
  write: 'row' | 'touch' | null;
  own: OwnWrite | undefined;
  archive: boolean;
}

/** What a write hands back: its version, and what the embedding enqueue looks at. */
type WrittenMemory = Pick<StoredMemory, 'id' | 'content_hash' | 'embedded_at'> & { server_version: string };

interface MemoryBatch {
  outcomes: Map<number, Outcome>;
  /** Final version of every memory row this batch looked at, by id. */
  versions: Map<string, string>;
  /** Rows whose content this batch wrote (to embed). */
  written: WrittenMemory[];
}

const identityKey = (owner: string | null, type: string, key: string) =>
  `${owner ?? ORA_OWNER}\u0000${type}\u0000${key}`;

function sameData(a: SyncMemoryData | null, b: SyncMemoryData | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    jsonEqual(a.content, b.content) &&
    a.summary === b.summary &&
    a.importance === b.importance &&
    a.pinned === b.pinned &&
    (a.expiresAt === null ? null : Date.parse(a.expiresAt)) === (b.expiresAt === null ? null : Date.parse(b.expiresAt))
  );
}

async function applyMemories(
  deps: SyncDeps,
  trx: DbOrTx,
  actor: Actor,
  input: PushInput,
  mutations: readonly SyncMemoryMutation[],
): Promise<MemoryBatch> {
  const batch: MemoryBatch = { outcomes: new Map(), versions: new Map(), written: [] };
  if (mutations.length === 0) return batch;
  const settings = deps.memory.settings;
  const encryptionKey = settings.encryptionKey;

  // Load: the rows named, the rows holding the keys of new memories, the agents, own last writes.
  // A new memory of this client that landed on another row holding its key (below) keeps
  // meaning that row: a later delete of the client's id deletes it. Looked up for deletes only
  // (an upsert finds the row by its key again), from this client's mutation log.
  const deleted = [...new Set(mutations.filter((m) => m.action === 'delete').map((m) => m.syncId))];
  const aliases = new Map<string, string>();
  if (deleted.length > 0) {
    const { rows } = await sql<{ sync_id: string; entity_id: string }>`
      select distinct on (result->>'syncId') result->>'syncId' as sync_id, entity_id
      from sync_mutations
      where client_id = ${input.clientId} and entity_type = 'memory' and entity_id is not null
        and result->>'syncId' in (${sql.join(deleted)}) and entity_id::text <> result->>'syncId'
      order by result->>'syncId', mutation_id desc
    `.execute(trx);
    for (const row of rows) aliases.set(row.sync_id, row.entity_id);
  }
  // One statement: the rows named by id and, for an upsert whose id is not there, the live row
  // holding its key (a new memory may land on one), locked in id order. One probe per (id, key)
  // named, arrays as parameters: one short plan whatever the batch size.
  const probes = new Map<string, [string, string | null, string | null, string | null]>();
  for (const m of mutations) {
    if (m.action === 'upsert') {
      const d = m.data;
      probes.set(`${m.syncId}\u0000${identityKey(d.agentId, d.type, d.key)}`, [
        m.syncId,
        d.agentId ?? ORA_OWNER,
        d.type,
        d.key,
      ]);
    } else if (!probes.has(m.syncId)) {
      probes.set(m.syncId, [m.syncId, null, null, null]);
    }
  }
  for (const id of aliases.values()) if (!probes.has(id)) probes.set(id, [id, null, null, null]);
  const list = [...probes.values()];
  const { rows: loaded } = await sql<SyncedMemory>`
    select ${sql.raw(LOADED_COLUMNS)} from agent_memory m
    where m.id = any(array(
      select coalesce(a.id, h.id)
      from rows from (unnest(${textArray(list.map((p) => p[0]))}::uuid[]), unnest(${textArray(list.map((p) => p[1]))}::uuid[]),
        unnest(${textArray(list.map((p) => p[2]))}::text[]), unnest(${textArray(list.map((p) => p[3]))}::text[]))
        as k (id, owner, memory_type, key)
      left join agent_memory a on a.id = k.id
      -- LATERAL: one probe of the (owner, type, key) index, only when the id is not there.
      left join lateral (
        select x.id from agent_memory x
        where a.id is null and k.key is not null
          and coalesce(x.agent_id, ${ORA_OWNER}::uuid) = k.owner and x.memory_type = k.memory_type
          and x.key = k.key and not x.is_archived
        limit 1
      ) as h on true
    ))
    order by m.id
    for update
  `.execute(trx);
  const agentIds = [
    ...new Set(mutations.flatMap((m) => (m.action === 'upsert' && m.data.agentId ? [m.data.agentId] : []))),
  ];
  const knownAgents = new Set(
    agentIds.length === 0
      ? []
      : (await trx.selectFrom('agents').select('id').where('id', 'in', agentIds).execute()).map((a) => a.id),
  );

  const states = new Map<string, MemoryState>();
  const byIdentity = new Map<string, string>();
  for (const row of loaded) {
    const data = row.deleted_at === null ? memoryRowToSyncData(row, encryptionKey) : null;
    states.set(row.id, {
      id: row.id,
      row,
      data,
      identity: { agentId: row.agent_id, type: row.memory_type, key: row.key },
      syncEnabled: row.sync_enabled && !settings.noSyncTypes.has(row.memory_type),
      version: String(row.server_version),
      updatedAt: row.updated_at.toISOString(),
      write: null,
      own: undefined,
      archive: false,
    });
    if (!row.is_archived) byIdentity.set(identityKey(row.agent_id, row.memory_type, row.key), row.id);
  }
  // This client's latest write of a row found (rows new to the server have none) only matters to a
  // mutation not based on the row's version (`continues`): looked up for the rows such a mutation
  // may reach (by its id, an alias, or its key), usually none.
  const stale = new Set<string>();
  const reach = (m: SyncMemoryMutation, id: string | undefined) => {
    const st = id === undefined ? undefined : states.get(id);
    if (st && isConflict(m.baseVersion, st.version)) stale.add(st.id);
  };
  for (const m of mutations) {
    reach(m, m.syncId);
    reach(m, aliases.get(m.syncId));
    if (m.action === 'upsert') reach(m, byIdentity.get(identityKey(m.data.agentId, m.data.type, m.data.key)));
  }
  if (stale.size > 0) {
    const { rows: own } = await sql<{
      entity_id: string;
      base_version: string | null;
      server_version: string | null;
      took_local: boolean;
    }>`
      select o.entity_id, o.base_version, o.server_version, o.took_local
      from unnest(${textArray([...stale])}::uuid[]) as r (id)
      cross join lateral (
        select s.entity_id, s.base_version, s.server_version, s.took_local from sync_mutations s
        where s.client_id = ${input.clientId} and s.entity_id = r.id and s.entity_type = 'memory'
        order by s.mutation_id desc
        limit 1
      ) as o
    `.execute(trx);
    for (const o of own) {
      const st = states.get(o.entity_id);
      if (st) {
        st.own = {
          base: o.base_version === null ? null : String(o.base_version),
          version: o.server_version === null ? null : String(o.server_version),
          tookLocal: o.took_local,
        };
      }
    }
  }

  const redirected = new Map<string, string | null>(); // syncId -> agent of the row it landed on
  const refuse = (m: SyncMemoryMutation, reason: string, entityId: string | null = null) =>
    batch.outcomes.set(m.mutationId, {
      entry: { entity: 'memory', mutation: m },
      status: 'refused',
      entityId,
      tookLocal: false,
      reason,
    });

  for (const m of mutations) {
    let st = states.get(m.syncId) ?? states.get(aliases.get(m.syncId) ?? '');
    if (st && actor.agentId && st.identity.agentId !== actor.agentId) {
      refuse(m, 'out of scope: the memory belongs to another agent');
      continue;
    }
    if (m.action === 'upsert') {
      const d = m.data;
      if (actor.agentId && d.agentId !== actor.agentId) {
        refuse(m, 'out of scope: a key bound to an agent syncs only that agent’s memories');
        continue;
      }
      if (d.agentId && !knownAgents.has(d.agentId)) {
        refuse(m, `no agent with id ${d.agentId}`);
        continue;
      }
      if (settings.noSyncTypes.has(d.type)) {
        refuse(m, `memories of type ${d.type} do not sync (ORA_MEMORY_NOSYNC_TYPES)`);
        continue;
      }
      if (!st) {
        const holderId = byIdentity.get(identityKey(d.agentId, d.type, d.key));
        const holder = holderId ? states.get(holderId) : undefined;
        if (holder && holder.data === null && holder.row !== null && holder.write === null) {
          // A deleted memory keeps its key until archived: it stays deleted, the new one takes the key.
          holder.archive = true;
          byIdentity.delete(identityKey(d.agentId, d.type, d.key));
        } else if (holder) {
          if (!holder.syncEnabled) {
            refuse(m, 'another memory with this agent, type and key does not sync');
            continue;
          }
          // The key is taken by a row this client did not know: the write goes to that row (a
          // conflict unless the client's base is that row's version), and the client's own id
          // gets a tombstone so its replica drops the duplicate.
          st = holder;
          redirected.set(m.syncId, holder.identity.agentId);
          aliases.set(m.syncId, holder.id);
        }
        if (!st) {
          st = {
            id: m.syncId,
            row: null,
            data: null,
            identity: { agentId: d.agentId, type: d.type, key: d.key },
            syncEnabled: true,
            version: null,
            updatedAt: null,
            write: null,
            own: undefined,
            archive: false,
          };
          states.set(st.id, st);
          byIdentity.set(identityKey(d.agentId, d.type, d.key), st.id);
        }
      }
      if (!st.syncEnabled) {
        if (st.row) st.write ??= 'touch';
        refuse(m, 'the memory does not sync (sync: false)', st.id);
        continue;
      }
      if (st.identity.agentId !== d.agentId || st.identity.type !== d.type || st.identity.key !== d.key) {
        refuse(m, 'a memory’s agent, type and key do not change through sync: delete it and write a new one', st.id);
        continue;
      }
      decideMemory(deps, input, batch, st, m, d);
    } else {
      if (!st || (st.data === null && st.write === null)) {
        // Never there, or deleted already: nothing to do.
        batch.outcomes.set(m.mutationId, {
          entry: { entity: 'memory', mutation: m },
          status: 'applied',
          entityId: st?.row ? st.id : null,
          tookLocal: true,
        });
        if (st) st.own = { base: m.baseVersion, version: st.version, tookLocal: true };
        continue;
      }
      if (!st.syncEnabled) {
        refuse(m, 'the memory does not sync (sync: false)', st.id);
        continue;
      }
      decideMemory(deps, input, batch, st, m, null);
    }
  }

  await writeMemories(deps, trx, actor, states, redirected, batch);
  return batch;
}

/** This client's latest write of the row is now `m` (a plain function: called per mutation). */
function setOwn(st: MemoryState, m: SyncMemoryMutation, tookLocal: boolean): void {
  st.own = { base: m.baseVersion, version: st.write === 'row' ? PENDING : st.version, tookLocal };
}

/** The conflict check and, on a conflict, the strategy: updates the state, records the outcome. */
function decideMemory(
  deps: SyncDeps,
  input: PushInput,
  batch: MemoryBatch,
  st: MemoryState,
  m: SyncMemoryMutation,
  local: SyncMemoryData | null,
): void {
  const entry: Entry = { entity: 'memory', mutation: m };
  const localUpdatedAt = m.data.updatedAt;
  const conflicting = isConflict(m.baseVersion, st.version) && !continues(st.own, st.version, m.baseVersion);
  if (sameData(st.data, local)) {
    // Already what the client wants: nothing to write, nothing to settle.
    batch.outcomes.set(m.mutationId, { entry, status: 'applied', entityId: st.id, tookLocal: true });
    setOwn(st, m, true);
    return;
  }
  if (!conflicting) {
    st.data = local;
    st.updatedAt = localUpdatedAt;
    st.write = 'row';
    st.version = PENDING;
    batch.outcomes.set(m.mutationId, { entry, status: 'applied', entityId: st.id, tookLocal: true });
    setOwn(st, m, true);
    return;
  }
  const strategy = chooseStrategy({
    requested: input.strategy,
    memoryType: st.identity.type,
    byType: deps.sync.strategies,
  });
  const localSide: ConflictSide<SyncMemoryData> = { value: local, updatedAt: localUpdatedAt };
  const serverSide: ConflictSide<SyncMemoryData> = { value: st.data, updatedAt: st.updatedAt };
  const settled = settleConflict(strategy, localSide, serverSide, (l, s, later) => mergeMemoryData(l, s, later));
  const conflict: ConflictDraft = {
    id: randomUUID(),
    mutationId: m.mutationId,
    entityType: 'memory',
    entityId: st.id,
    agentId: st.identity.agentId,
    strategy,
    outcome: settled.outcome,
    local: { content: local, updatedAt: localUpdatedAt, syncId: m.syncId, serverVersion: m.baseVersion },
    server: {
      content: st.data,
      updatedAt: st.updatedAt,
      syncId: st.id,
      serverVersion: st.version === PENDING ? null : st.version,
    },
    merged: settled.merged
      ? { content: settled.merged, updatedAt: settled.merged.updatedAt, syncId: st.id, serverVersion: null }
      : null,
    baseVersion: m.baseVersion,
  };
  const tookLocal = settled.outcome === 'local_applied';
  if (settled.outcome === 'local_applied' || settled.outcome === 'merged') {
    st.data = settled.value;
    st.updatedAt = settled.outcome === 'merged' ? (settled.merged?.updatedAt ?? localUpdatedAt) : localUpdatedAt;
    st.write = 'row';
    st.version = PENDING;
  } else if (st.write === null) {
    // The server's copy stays, with a new version: the client's next pull brings it back.
    st.write = 'touch';
  }
  batch.outcomes.set(m.mutationId, { entry, status: 'conflict', entityId: st.id, tookLocal, conflict });
  setOwn(st, m, tookLocal);
}

const WRITTEN_COLUMNS = [
  'id',
  'version',
  'content',
  'summary',
  'importance',
  'memory_type',
  'key',
  'source',
  'is_pinned',
  'is_encrypted',
  'is_archived',
  'expires_at',
  'server_version',
  'content_hash',
  'embedded_at',
]
  .map((c) => `m.${c}`)
  .join(', ');

/**
 * The memories to write as rows `v` of a FROM clause: one array per column (a short statement to
 * parse and plan, whatever the batch size), the contents as one JSON array (JSON text already:
 * nothing to escape).
 */
function memoryValues(settings: SyncDeps['memory']['settings'], states: readonly MemoryState[]): RawBuilder<unknown> {
  const n = states.length;
  const id = new Array<string>(n);
  const agent = new Array<string | null>(n);
  const type = new Array<string>(n);
  const key = new Array<string>(n);
  const content = new Array<string>(n);
  const summary = new Array<string | null>(n);
  const text = new Array<string | null>(n);
  const hash = new Array<string | null>(n);
  const encrypted = new Array<boolean>(n);
  const importance = new Array<number>(n);
  const pinned = new Array<boolean>(n);
  const expires = new Array<string | null>(n);
  const updated = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = states[i] as MemoryState;
    const d = s.data as SyncMemoryData;
    const f = storedFields(settings, d.agentId, d.type, d.key, d.content, d.summary);
    id[i] = s.id;
    agent[i] = d.agentId;
    type[i] = d.type;
    key[i] = d.key;
    content[i] = f.content as string;
    summary[i] = f.summary ?? null;
    text[i] = f.content_text ?? null;
    hash[i] = f.content_hash ?? null;
    encrypted[i] = f.is_encrypted ?? false;
    importance[i] = d.importance;
    pinned[i] = d.pinned;
    expires[i] = d.expiresAt;
    updated[i] = d.updatedAt;
  }
  return sql`rows from (unnest(${textArray(id)}::uuid[]), unnest(${textArray(agent)}::uuid[]),
      unnest(${textArray(type)}::text[]), unnest(${textArray(key)}::text[]),
      jsonb_array_elements(${`[${content.join(',')}]`}::jsonb), unnest(${textArray(summary)}::text[]),
      unnest(${textArray(text)}::text[]), unnest(${textArray(hash)}::text[]), unnest(${plainArray(encrypted)}::bool[]),
      unnest(${plainArray(importance)}::float8[]), unnest(${plainArray(pinned)}::bool[]),
      unnest(${textArray(expires)}::timestamptz[]), unnest(${textArray(updated)}::timestamptz[]))
    as v (id, agent_id, memory_type, key, content, summary, content_text, content_hash, is_encrypted, importance,
      is_pinned, expires_at, updated_at)`;
}

async function writeMemories(
  deps: SyncDeps,
  trx: DbOrTx,
  actor: Actor,
  states: Map<string, MemoryState>,
  redirected: Map<string, string | null>,
  batch: MemoryBatch,
): Promise<void> {
  const settings = deps.memory.settings;
  const all = [...states.values()];
  for (const st of all) if (st.row) batch.versions.set(st.id, String(st.row.server_version));

  const archive = all.filter((s) => s.archive).map((s) => s.id);
  if (archive.length > 0) {
    await trx.updateTable('agent_memory').set({ is_archived: true }).where('id', 'in', archive).execute();
  }

  const live = all.filter((s) => s.write === 'row' && s.data !== null);
  const deletes = all.filter((s) => s.write === 'row' && s.data === null && s.row !== null);
  const touches = all.filter((s) => s.write === 'touch' && s.row !== null);
  const writer = actor.keyId;

  // Each write and its history row in one statement: the upsert's rows feed the versions insert.
  if (live.length > 0) {
    // New rows are inserted, rows loaded (and locked) above are updated: no speculative insertion.
    // A row someone else created meanwhile fails the insert (unique violation): the batch is retried.
    const fresh = live.filter((s) => s.row === null);
    const existing = live.filter((s) => s.row !== null);
    const parts: RawBuilder<unknown>[] = [];
    if (fresh.length > 0) {
      parts.push(sql`ins as (
        insert into agent_memory as m (id, agent_id, memory_type, key, content, summary, content_text, content_hash,
          is_encrypted, importance, is_pinned, expires_at, source, updated_at, created_by_key_id)
        select v.id, v.agent_id, v.memory_type, v.key, v.content, v.summary, v.content_text, v.content_hash,
          v.is_encrypted, v.importance, v.is_pinned, v.expires_at, 'sync', v.updated_at, ${writer}::uuid
        from ${memoryValues(settings, fresh)}
        returning ${sql.raw(WRITTEN_COLUMNS)}, true as inserted
      )`);
    }
    if (existing.length > 0) {
      parts.push(sql`upd as (
        update agent_memory as m set
          content = v.content, summary = v.summary, content_text = v.content_text, content_hash = v.content_hash,
          is_encrypted = v.is_encrypted, importance = v.importance, is_pinned = v.is_pinned, expires_at = v.expires_at,
          source = 'sync', updated_at = v.updated_at, deleted_at = null,
          -- A new text is embedded again (the old vector serves search until then).
          embedded_at = case when m.content_hash is distinct from v.content_hash or v.is_encrypted
            then null else m.embedded_at end,
          embedding_failed_at = case when m.content_hash is distinct from v.content_hash
            then null else m.embedding_failed_at end,
          version = m.version + 1,
          server_version = nextval('sync_version_seq')
        from ${memoryValues(settings, existing)}
        where m.id = v.id
        returning ${sql.raw(WRITTEN_COLUMNS)}, false as inserted
      )`);
    }
    const up =
      fresh.length === 0
        ? sql`select * from upd`
        : existing.length === 0
          ? sql`select * from ins`
          : sql`select * from ins union all select * from upd`;
    // Each write and its history row in one statement: the written rows feed the versions insert.
    const { rows } = await sql<WrittenMemory>`
      with ${sql.join(parts)}, up as (${up}), history as (
        insert into agent_memory_versions (memory_id, version, content, summary, importance, memory_type, key, source,
          change, is_pinned, is_encrypted, is_archived, is_deleted, expires_at, written_by_key_id)
        select id, version, content, summary, importance, memory_type, key, source,
          case when inserted then 'insert' else 'update' end, is_pinned, is_encrypted, is_archived, false, expires_at,
          ${writer}::uuid
        from up
      )
      select id, server_version::text as server_version, content_hash, embedded_at from up
    `.execute(trx);
    if (rows.length !== live.length) {
      throw new Error(`sync push: wrote ${rows.length} of ${live.length} memories (a locked row went missing)`);
    }
    for (const row of rows) batch.versions.set(row.id, row.server_version);
    batch.written.push(...rows);
  }

  if (deletes.length > 0) {
    const values = deletes.map((s) => sql`(${s.id}::uuid, ${s.updatedAt}::timestamptz)`);
    const { rows } = await sql<WrittenMemory>`
      with gone as (
        update agent_memory as m
        set deleted_at = now(), updated_at = v.updated_at, source = 'sync',
            version = m.version + 1, server_version = nextval('sync_version_seq')
        from (values ${sql.join(values)}) as v (id, updated_at)
        where m.id = v.id
        returning m.id, m.version, m.content, m.summary, m.importance, m.memory_type, m.key, m.source, m.is_pinned, m.is_encrypted, m.is_archived, m.expires_at, m.server_version, m.content_hash, m.embedded_at
      ), history as (
        insert into agent_memory_versions (memory_id, version, content, summary, importance, memory_type, key, source,
          change, is_pinned, is_encrypted, is_archived, is_deleted, expires_at, written_by_key_id)
        select id, version, content, summary, importance, memory_type, key, source, 'delete', is_pinned, is_encrypted,
          is_archived, true, expires_at, ${writer}::uuid
        from gone
      )
      select id, server_version::text as server_version, content_hash, embedded_at from gone
    `.execute(trx);
    for (const row of rows) batch.versions.set(row.id, row.server_version);
  }

  if (touches.length > 0) {
    const rows = await trx
      .updateTable('agent_memory')
      .set({ server_version: sql<string>`nextval('sync_version_seq')` })
      .where(
        'id',
        'in',
        touches.map((s) => s.id),
      )
      .returning(['id', 'server_version'])
      .execute();
    for (const row of rows) batch.versions.set(row.id, String(row.server_version));
  }

  // A new memory whose key another row held: its id is gone for good (replicas drop it).
  const gone = [...redirected.entries()].filter(([syncId]) => !states.has(syncId) || states.get(syncId)?.row === null);
  if (gone.length > 0) {
    await trx
      .insertInto('sync_tombstones')
      .values(
        gone.map(([syncId, agentId]) => ({ entity_type: 'memory' as const, entity_id: syncId, agent_id: agentId })),
      )
      .onConflict((oc) =>
        oc.columns(['entity_type', 'entity_id']).doUpdateSet({
          server_version: sql<string>`nextval('sync_version_seq')`,
          deleted_at: sql<Date>`now()`,
        }),
      )
      .execute();
  }
}

// ---------------------------------------------------------------------------------------------
// Conversations: one at a time (a push carries few), each write visible to the next.

interface ConversationBatch {
  outcomes: Map<number, Outcome>;
  versions: Map<string, string>;
}

function conversationData(row: ConversationRow): SyncConversationData {
  return { agentId: row.agent_id, title: row.title, status: row.status, updatedAt: row.updated_at.toISOString() };
}

async function applyConversations(
  _deps: SyncDeps,
  trx: DbOrTx,
  actor: Actor,
  input: PushInput,
  mutations: readonly SyncConversationMutation[],
): Promise<ConversationBatch> {
  const batch: ConversationBatch = { outcomes: new Map(), versions: new Map() };
  if (mutations.length === 0) return batch;
  const ids = [...new Set(mutations.map((m) => m.syncId))];
  const ownRows = await trx
    .selectFrom('sync_mutations')
    .select(['entity_id', 'base_version', 'server_version', 'took_local'])
    .distinctOn('entity_id')
    .where('client_id', '=', input.clientId)
    .where('entity_type', '=', 'conversation')
    .where('entity_id', 'in', ids)
    .orderBy('entity_id')
    .orderBy('mutation_id', 'desc')
    .execute();
  const own = new Map<string, OwnWrite>(
    ownRows.map((o) => [
      o.entity_id as string,
      {
        base: o.base_version === null ? null : String(o.base_version),
        version: o.server_version === null ? null : String(o.server_version),
        tookLocal: o.took_local,
      },
    ]),
  );
  const agentIds = [
    ...new Set(
      mutations.flatMap((m) => {
        const a = m.action === 'upsert' ? m.data.agentId : m.action === 'append' ? m.data.agentId : null;
        return a ? [a] : [];
      }),
    ),
  ];
  const knownAgents = new Set(
    agentIds.length === 0
      ? []
      : (await trx.selectFrom('agents').select('id').where('id', 'in', agentIds).execute()).map((a) => a.id),
  );
  const counter = await loadTokenCounter();

  for (const m of mutations) {
    const entry: Entry = { entity: 'conversation', mutation: m };
    const done = (status: Status, row: ConversationRow | null, tookLocal: boolean, extra: Partial<Outcome> = {}) => {
      batch.outcomes.set(m.mutationId, { entry, status, entityId: row?.id ?? null, tookLocal, ...extra });
      if (row) {
        batch.versions.set(row.id, String(row.server_version));
        own.set(row.id, { base: m.baseVersion, version: String(row.server_version), tookLocal });
      }
    };
    const refuse = (reason: string, row: ConversationRow | null = null) =>
      batch.outcomes.set(m.mutationId, {
        entry,
        status: 'refused',
        entityId: row?.id ?? null,
        tookLocal: false,
        reason,
      });

    const row = await trx
      .selectFrom('agent_conversations')
      .selectAll()
      .where('id', '=', m.syncId)
      .forUpdate()
      .executeTakeFirst();
    if (row) batch.versions.set(row.id, String(row.server_version));
    if (row && actor.agentId && row.agent_id !== actor.agentId) {
      refuse('out of scope: the conversation belongs to another agent');
      continue;
    }
    const wantedAgent =
      m.action === 'upsert' ? m.data.agentId : m.action === 'append' ? (m.data.agentId ?? actor.agentId) : null;
    if (!row && m.action !== 'delete') {
      if (actor.agentId && wantedAgent !== actor.agentId) {
        refuse('out of scope: a key bound to an agent syncs only that agent’s conversations');
        continue;
      }
      if (wantedAgent && !knownAgents.has(wantedAgent)) {
        refuse(`no agent with id ${wantedAgent}`);
        continue;
      }
    }
    if (row && m.action === 'upsert' && m.data.agentId !== row.agent_id) {
      refuse('a conversation’s agent does not change through sync', row);
      continue;
    }
    const current = row ? String(row.server_version) : null;
    const conflicting = isConflict(m.baseVersion, current) && !continues(own.get(m.syncId), current, m.baseVersion);

    if (m.action === 'append') {
      const lastAt = m.data.messages.reduce(
        (t, msg) => (Date.parse(msg.createdAt) > Date.parse(t) ? msg.createdAt : t),
        m.data.messages[0]?.createdAt as string,
      );
      if (!row) {
        const created = await trx
          .insertInto('agent_conversations')
          .values({ id: m.syncId, agent_id: wantedAgent ?? null, source: 'sync', updated_at: new Date(lastAt) })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .deleteFrom('sync_tombstones')
          .where('entity_type', '=', 'conversation')
          .where('entity_id', '=', m.syncId)
          .execute();
        done('applied', await insertSyncMessages(trx, created, m.data.messages, counter, false), true);
        continue;
      }
      if (row.deleted_at === null) {
        // Messages never conflict: the union by id. The row holds this client's view only when it
        // was based on the current version (another writer may have changed the title meanwhile).
        done('applied', await insertSyncMessages(trx, row, m.data.messages, counter, false), !conflicting);
        continue;
      }
      // Appended to a deleted conversation: the strategy decides between the delete and the messages.
      const strategy = chooseStrategy({ requested: input.strategy });
      const settled = settleConflict<{ messages: SyncMessage[] }>(
        strategy,
        { value: { messages: m.data.messages }, updatedAt: lastAt },
        { value: null, updatedAt: row.updated_at.toISOString() },
        () => undefined,
      );
      const conflict = conversationConflict(
        m,
        row,
        strategy,
        settled.outcome,
        { messages: m.data.messages },
        lastAt,
        null,
      );
      if (settled.outcome === 'local_applied') {
        const revived = await reviveConversation(trx, row, null);
        done('conflict', await insertSyncMessages(trx, revived, m.data.messages, counter, true), true, { conflict });
      } else {
        // The conversation stays deleted (its tombstone travels again), and the messages are kept
        // with it, as a union: if it comes back, every replica gets them all.
        done('conflict', await insertSyncMessages(trx, row, m.data.messages, counter, true), false, { conflict });
      }
      continue;
    }

    if (m.action === 'delete') {
      if (!row || row.deleted_at !== null) {
        done('applied', row ?? null, true);
        continue;
      }
      if (!conflicting) {
        done('applied', await deleteConversationRow(trx, row.id, m.data.updatedAt), true);
        continue;
      }
      const strategy = chooseStrategy({ requested: input.strategy });
      const settled = settleConflict<SyncConversationData>(
        strategy,
        { value: null, updatedAt: m.data.updatedAt },
        { value: conversationData(row), updatedAt: row.updated_at.toISOString() },
        () => undefined,
      );
      const conflict = conversationConflict(m, row, strategy, settled.outcome, null, m.data.updatedAt, null);
      if (settled.outcome === 'local_applied') {
        done('conflict', await deleteConversationRow(trx, row.id, m.data.updatedAt), true, { conflict });
      } else {
        // The conversation stays, but this client dropped it with its messages: they all travel again.
        await restampMessages(trx, row.id);
        done('conflict', await touchConversation(trx, row.id), false, { conflict });
      }
      continue;
    }

    // upsert
    const d = m.data;
    if (!row) {
      const created = await trx
        .insertInto('agent_conversations')
        .values({
          id: m.syncId,
          agent_id: d.agentId,
          title: d.title,
          status: d.status,
          source: 'sync',
          updated_at: new Date(d.updatedAt),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .deleteFrom('sync_tombstones')
        .where('entity_type', '=', 'conversation')
        .where('entity_id', '=', m.syncId)
        .execute();
      done('applied', created, true);
      continue;
    }
    const serverData = row.deleted_at === null ? conversationData(row) : null;
    if (serverData && serverData.title === d.title && serverData.status === d.status) {
      done('applied', row, true);
      continue;
    }
    if (!conflicting) {
      done('applied', await writeConversationFields(trx, row, d), true);
      continue;
    }
    const strategy = chooseStrategy({ requested: input.strategy });
    const settled = settleConflict<SyncConversationData>(
      strategy,
      { value: d, updatedAt: d.updatedAt },
      { value: serverData, updatedAt: row.updated_at.toISOString() },
      (l, s, later) => mergeConversationData(l, s, later),
    );
    if (settled.outcome === 'local_applied' || settled.outcome === 'merged') {
      const written = await writeConversationFields(trx, row, settled.value as SyncConversationData);
      const conflict = conversationConflict(
        m,
        row,
        strategy,
        settled.outcome,
        d,
        d.updatedAt,
        settled.merged ? { ...settled.merged } : null,
        String(written.server_version),
      );
      done('conflict', written, settled.outcome === 'local_applied', { conflict });
    } else {
      const conflict = conversationConflict(m, row, strategy, settled.outcome, d, d.updatedAt, null);
      done('conflict', await touchConversation(trx, row.id), false, { conflict });
    }
  }
  return batch;
}

function conversationConflict(
  m: SyncConversationMutation,
  row: ConversationRow,
  strategy: SyncStrategy,
  outcome: ConflictDraft['outcome'],
  local: unknown,
  localUpdatedAt: string,
  merged: SyncConversationData | null,
  mergedVersion: string | null = null,
): ConflictDraft {
  return {
    id: randomUUID(),
    mutationId: m.mutationId,
    entityType: 'conversation',
    entityId: row.id,
    agentId: row.agent_id,
    strategy,
    outcome,
    local: { content: local, updatedAt: localUpdatedAt, syncId: m.syncId, serverVersion: m.baseVersion },
    server: {
      content: row.deleted_at === null ? conversationData(row) : null,
      updatedAt: row.updated_at.toISOString(),
      syncId: row.id,
      serverVersion: String(row.server_version),
    },
    merged: merged
      ? { content: merged, updatedAt: merged.updatedAt, syncId: row.id, serverVersion: mergedVersion }
      : null,
    baseVersion: m.baseVersion,
  };
}

const conversationBump = {
  version: sql<number>`version + 1`,
  server_version: sql<string>`nextval('sync_version_seq')`,
};

export async function writeConversationFields(
  trx: DbOrTx,
  row: ConversationRow,
  data: SyncConversationData,
): Promise<ConversationRow> {
  const revived = row.deleted_at !== null;
  const updated = await trx
    .updateTable('agent_conversations')
    .set({
      ...conversationBump,
      title: data.title,
      status: data.status,
      updated_at: new Date(data.updatedAt),
      deleted_at: null,
      source: 'sync',
    })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (revived) await restampMessages(trx, row.id);
  return updated;
}

export async function deleteConversationRow(trx: DbOrTx, id: string, updatedAt: string): Promise<ConversationRow> {
  return trx
    .updateTable('agent_conversations')
    .set({ ...conversationBump, deleted_at: sql<Date>`now()`, updated_at: new Date(updatedAt), source: 'sync' })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function touchConversation(trx: DbOrTx, id: string): Promise<ConversationRow> {
  return trx
    .updateTable('agent_conversations')
    .set({ server_version: sql<string>`nextval('sync_version_seq')` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Brings a deleted conversation back; replicas dropped its messages, so they all travel again. */
export async function reviveConversation(
  trx: DbOrTx,
  row: ConversationRow,
  data: SyncConversationData | null,
): Promise<ConversationRow> {
  if (data) return writeConversationFields(trx, row, data);
  const updated = await trx
    .updateTable('agent_conversations')
    .set({ ...conversationBump, deleted_at: null, source: 'sync' })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await restampMessages(trx, row.id);
  return updated;
}

async function restampMessages(trx: DbOrTx, conversationId: string): Promise<void> {
  await trx
    .updateTable('conversation_messages')
    .set({ seq: sql<string>`nextval('sync_version_seq')` })
    .where('conversation_id', '=', conversationId)
    .execute();
}

/** Adds messages by id (one already there is kept), then the conversation's counts and version. */
export async function insertSyncMessages(
  trx: DbOrTx,
  row: ConversationRow,
  messages: readonly SyncMessage[],
  counter: { count(text: string): number },
  forceBump: boolean,
): Promise<ConversationRow> {
  const unique = [...new Map(messages.map((m) => [m.id, m])).values()];
  const inserted = await trx
    .insertInto('conversation_messages')
    .values(
      unique.map((m) => ({
        conversation_id: row.id,
        id: m.id,
        role: m.role,
        content: m.content,
        metadata: JSON.stringify(m.metadata ?? {}),
        token_count: counter.count(m.content),
        created_at: new Date(m.createdAt),
      })),
    )
    .onConflict((oc) => oc.columns(['conversation_id', 'id']).doNothing())
    .returning(['token_count', 'created_at'])
    .execute();
  if (inserted.length === 0 && !forceBump) return row;
  const tokens = inserted.reduce((n, m) => n + (m.token_count ?? 0), 0);
  const latest = new Date(Math.max(row.updated_at.getTime(), ...inserted.map((m) => m.created_at.getTime())));
  return trx
    .updateTable('agent_conversations')
    .set({
      ...conversationBump,
      message_count: sql<number>`message_count + ${inserted.length}`,
      token_count: sql<number>`token_count + ${tokens}`,
      updated_at: latest,
      source: 'sync',
    })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
