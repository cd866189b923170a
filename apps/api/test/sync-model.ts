import { randomUUID } from 'node:crypto';
import { InMemorySyncStore, type SyncCaller, SyncClient } from '@ora/client';
import {
  type ActionInput,
  type ActionOutput,
  type SyncMemoryData,
  SyncPullInput,
  SyncPushInput,
  type SyncStrategy,
} from '@ora/contracts';
import type { Database } from '@ora/db';
import { jsonEqual } from '@ora/sync-core';
import fc from 'fast-check';
import type { Kysely } from 'kysely';

// The model-based sync test (docs/sync.md, "Guarantees"): simulated clients (the reference client
// over in-memory stores) edit, delete and append offline; their pushes are dropped, duplicated,
// delayed (delivered later, out of order) and interrupted (applied, answer lost); the server
// restarts. After quiescence every replica must equal the server, and every write the server
// acknowledged must be in the final state, in a conflict record, or overwritten by a write made
// after it was seen (lost writes: 0).

export type Fault = 'ok' | 'drop' | 'dup' | 'interrupt' | 'delay';

export type Op =
  | { kind: 'edit'; client: number; key: number; field: string; value: number; scalar: boolean; dt: number }
  | { kind: 'delete'; client: number; key: number; dt: number }
  | { kind: 'append'; client: number; conv: number; dt: number }
  | { kind: 'title'; client: number; conv: number; title: number; dt: number }
  | { kind: 'deleteConv'; client: number; conv: number; dt: number }
  | { kind: 'sync'; client: number; fault: Fault }
  | { kind: 'deliver'; index: number }
  | { kind: 'restart' };

export interface Scenario {
  clients: number;
  strategy: SyncStrategy | undefined;
  ops: Op[];
}

const client = fc.nat(4);
const dt = fc.integer({ min: 0, max: 2 });
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  clients: fc.integer({ min: 3, max: 5 }),
  strategy: fc.constantFrom<SyncStrategy | undefined>(
    undefined,
    'last_write_wins',
    'server_wins',
    'local_wins',
    'merge',
    'manual',
  ),
  ops: fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('edit' as const),
          client,
          key: fc.nat(2),
          field: fc.constantFrom('a', 'b', 'c'),
          value: fc.nat(9),
          scalar: fc.boolean(),
          dt,
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), client, key: fc.nat(2), dt }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), client, conv: fc.nat(1), dt }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('title' as const), client, conv: fc.nat(1), title: fc.nat(5), dt }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteConv' as const), client, conv: fc.nat(1), dt }) },
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('sync' as const),
          client,
          fault: fc.constantFrom<Fault>('ok', 'ok', 'drop', 'dup', 'interrupt', 'delay'),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('deliver' as const), index: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
    ),
    { minLength: 4, maxLength: 16 },
  ),
});

/** How the model reaches a server: in-process core calls, or HTTP. `restart` makes a new one. */
export interface ModelServer {
  /** Calls a sync action as the scenario's key (bound to the scenario's agent). */
  call<A extends 'sync.push' | 'sync.pull'>(action: A, data: ActionInput<A>): Promise<ActionOutput<A>>;
  restart(): Promise<void>;
  db(): Kysely<Database>;
}

/** Parses as the action layer does (defaults filled), for servers called in-process. */
export function parseSyncInput<A extends 'sync.push' | 'sync.pull'>(action: A, data: ActionInput<A>) {
  return action === 'sync.push' ? SyncPushInput.parse(data) : SyncPullInput.parse(data);
}

class NetworkError extends Error {}

const T0 = Date.parse('2026-11-25T08:00:00.000Z');

export interface ModelReport {
  mutations: number;
  conflicts: number;
  faults: number;
}

/** Runs one scenario against a server for a fresh agent; throws on divergence or a lost write. */
export async function runScenario(server: ModelServer, agentId: string, scenario: Scenario): Promise<ModelReport> {
  let clock = T0;
  const now = () => new Date(clock).toISOString();
  const keys = [0, 1, 2].map((k) => `model.key.${k}`);
  const convIds = [randomUUID(), randomUUID()];
  let messageCounter = 0;
  const delayed: Array<ActionInput<'sync.push'>> = [];
  let faults = 0;

  const replicas = Array.from({ length: scenario.clients }, (_, i) => {
    const store = new InMemorySyncStore(`model-${i}-${randomUUID()}`);
    let fault: Fault = 'ok';
    const caller: SyncCaller = {
      async call(action, data) {
        if (action !== 'sync.push' || fault === 'ok') return server.call(action, data);
        faults++;
        const f = fault;
        fault = 'ok'; // one fault per sync: the retry inside the same sync goes through
        if (f === 'drop') throw new NetworkError('dropped');
        if (f === 'delay') {
          delayed.push(structuredClone(data as ActionInput<'sync.push'>));
          throw new NetworkError('timed out (the request is still on its way)');
        }
        if (f === 'interrupt') {
          await server.call(action, data);
          throw new NetworkError('connection reset after the server answered');
        }
        await server.call(action, structuredClone(data));
        return server.call(action, data);
      },
    };
    const sync = new SyncClient(caller, store, scenario.strategy ? { strategy: scenario.strategy } : {});
    return {
      store,
      sync,
      setFault: (f: Fault) => {
        fault = f;
      },
    };
  });
  const replica = (i: number) => replicas[i % replicas.length] as (typeof replicas)[number];

  const liveMemoryByKey = (store: InMemorySyncStore, key: string) =>
    [...store.memories.values()].find((m) => m.key === key && !m.localOnly);

  for (const op of scenario.ops) {
    if ('dt' in op) clock += op.dt * 1000;
    switch (op.kind) {
      case 'edit': {
        const { store } = replica(op.client);
        const key = keys[op.key] as string;
        const current = liveMemoryByKey(store, key);
        const base = current?.content;
        const content =
          op.scalar || base === null || typeof base !== 'object' || Array.isArray(base)
            ? op.scalar
              ? op.value
              : { [op.field]: op.value }
            : { ...(base as Record<string, unknown>), [op.field]: op.value };
        const data: SyncMemoryData = {
          agentId,
          type: 'fact',
          key,
          content: content as SyncMemoryData['content'],
          summary: null,
          importance: 0.5,
          pinned: false,
          expiresAt: null,
          updatedAt: now(),
        };
        await store.writeMemory(current?.id ?? randomUUID(), data);
        break;
      }
      case 'delete': {
        const { store } = replica(op.client);
        const current = liveMemoryByKey(store, keys[op.key] as string);
        if (current) await store.deleteMemory(current.id, now());
        break;
      }
      case 'append': {
        const { store } = replica(op.client);
        const id = convIds[op.conv] as string;
        messageCounter++;
        await store.appendMessages(id, agentId, [
          {
            id: `${store.id}-m${messageCounter}`,
            role: 'user',
            content: `message ${messageCounter}`,
            metadata: {},
            createdAt: now(),
          },
        ]);
        break;
      }
      case 'title': {
        const { store } = replica(op.client);
        const id = convIds[op.conv] as string;
        const current = store.conversations.get(id);
        await store.writeConversation(id, {
          agentId,
          title: `title ${op.title}`,
          status: current?.status ?? 'active',
          updatedAt: now(),
        });
        break;
      }
      case 'deleteConv': {
        const { store } = replica(op.client);
        const id = convIds[op.conv] as string;
        if (store.conversations.has(id)) await store.deleteConversation(id, now());
        break;
      }
      case 'sync': {
        const r = replica(op.client);
        r.setFault(op.fault);
        try {
          await r.sync.syncOnce();
        } catch (error) {
          if (!(error instanceof NetworkError)) throw error;
        }
        r.setFault('ok');
        break;
      }
      case 'deliver': {
        if (delayed.length === 0) break;
        const [request] = delayed.splice(op.index % delayed.length, 1);
        await server.call('sync.push', request as ActionInput<'sync.push'>);
        break;
      }
      case 'restart':
        await server.restart();
        break;
    }
  }

  // Quiescence: the network delivers what it still holds, then every replica syncs twice (the
  // second round brings everyone the writes of the first).
  while (delayed.length > 0) await server.call('sync.push', delayed.shift() as ActionInput<'sync.push'>);
  for (let round = 0; round < 2; round++) {
    for (const r of replicas) await r.sync.syncOnce();
  }

  await checkConvergence(
    server.db(),
    agentId,
    replicas.map((r) => r.store),
  );
  const report = await checkNoLostWrites(
    server.db(),
    agentId,
    replicas.map((r) => r.store),
  );
  return { ...report, faults };
}

function memoryFields(
  d: Pick<SyncMemoryData, 'type' | 'key' | 'content' | 'summary' | 'importance' | 'pinned' | 'expiresAt'>,
) {
  return {
    type: d.type,
    key: d.key,
    content: d.content,
    summary: d.summary,
    importance: d.importance,
    pinned: d.pinned,
    expiresAt: d.expiresAt,
  };
}

async function serverState(db: Kysely<Database>, agentId: string) {
  const memories = await db
    .selectFrom('agent_memory')
    .select(['id', 'memory_type', 'key', 'content', 'summary', 'importance', 'is_pinned', 'expires_at', 'updated_at'])
    .where('agent_id', '=', agentId)
    .where('deleted_at', 'is', null)
    .where('is_archived', '=', false)
    .where('sync_enabled', '=', true)
    .execute();
  const conversations = await db
    .selectFrom('agent_conversations')
    .select(['id', 'title', 'status', 'updated_at'])
    .where('agent_id', '=', agentId)
    .where('deleted_at', 'is', null)
    .execute();
  const messages = conversations.length
    ? await db
        .selectFrom('conversation_messages')
        .select(['conversation_id', 'id', 'content', 'created_at'])
        .where(
          'conversation_id',
          'in',
          conversations.map((c) => c.id),
        )
        .execute()
    : [];
  return { memories, conversations, messages };
}

async function checkConvergence(db: Kysely<Database>, agentId: string, stores: InMemorySyncStore[]): Promise<void> {
  const server = await serverState(db, agentId);
  const serverMemories = new Map(
    server.memories.map((m) => [
      m.id,
      memoryFields({
        type: m.memory_type,
        key: m.key,
        content: m.content as SyncMemoryData['content'],
        summary: m.summary,
        importance: Number(m.importance),
        pinned: m.is_pinned,
        expiresAt: m.expires_at?.toISOString() ?? null,
      }),
    ]),
  );
  const serverConversations = new Map(
    server.conversations.map((c) => [
      c.id,
      {
        title: c.title,
        status: c.status,
        messages: server.messages
          .filter((m) => m.conversation_id === c.id)
          .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((m) => `${m.id}:${m.content}`),
      },
    ]),
  );
  for (const store of stores) {
    if (store.outbox.length > 0) throw new Error(`${store.id}: ${store.outbox.length} mutations never acknowledged`);
    const local = new Map([...store.memories.values()].filter((m) => !m.localOnly).map((m) => [m.id, memoryFields(m)]));
    const where = `${store.id}`;
    for (const [id, fields] of serverMemories) {
      const mine = local.get(id);
      if (!mine) throw new Error(`${where}: missing memory ${id} ${JSON.stringify(fields)}`);
      if (!jsonEqual(mine, fields)) {
        throw new Error(
          `${where}: memory ${id} differs: local ${JSON.stringify(mine)} server ${JSON.stringify(fields)}`,
        );
      }
    }
    for (const id of local.keys()) {
      if (!serverMemories.has(id)) throw new Error(`${where}: extra memory ${id} ${JSON.stringify(local.get(id))}`);
    }
    const conversations = new Map(
      [...store.conversations.values()]
        .filter((c) => !c.localOnly)
        .map((c) => [
          c.id,
          { title: c.title, status: c.status, messages: c.messages.map((m) => `${m.id}:${m.content}`) },
        ]),
    );
    for (const [id, conv] of serverConversations) {
      const mine = conversations.get(id);
      if (!mine) throw new Error(`${where}: missing conversation ${id}`);
      if (!jsonEqual(mine, conv)) {
        throw new Error(
          `${where}: conversation ${id} differs: local ${JSON.stringify(mine)} server ${JSON.stringify(conv)}`,
        );
      }
    }
    for (const id of conversations.keys()) {
      if (!serverConversations.has(id)) throw new Error(`${where}: extra conversation ${id}`);
    }
  }
}

/**
 * Every mutation the server took (applied or settled as a conflict) wrote something that is now:
 * in the final state; or in a conflict record (either side); or was overwritten by a write made
 * after it was seen (the same client later, or a write based on a version at least as new).
 * Messages are kept rows (a deleted conversation keeps them, restorable with sync.resolve).
 */
async function checkNoLostWrites(
  db: Kysely<Database>,
  agentId: string,
  stores: InMemorySyncStore[],
): Promise<{ mutations: number; conflicts: number }> {
  const clientIds = stores.map((s) => s.id);
  const mutations = await db
    .selectFrom('sync_mutations')
    .selectAll()
    .where('client_id', 'in', clientIds)
    .orderBy('mutation_id')
    .execute();
  const conflicts = await db.selectFrom('sync_conflicts').selectAll().where('agent_id', '=', agentId).execute();
  const refused = mutations.filter((m) => m.status === 'refused');
  if (refused.length > 0) throw new Error(`refused mutations: ${JSON.stringify(refused.map((m) => m.result))}`);

  const memories = await db
    .selectFrom('agent_memory')
    .select(['id', 'memory_type', 'key', 'content', 'summary', 'importance', 'is_pinned', 'expires_at', 'deleted_at'])
    .where('agent_id', '=', agentId)
    .execute();
  const messageIds = new Set(
    (
      await db
        .selectFrom('conversation_messages as m')
        .innerJoin('agent_conversations as c', 'c.id', 'm.conversation_id')
        .select('m.id')
        .where('c.agent_id', '=', agentId)
        .execute()
    ).map((m) => m.id),
  );
  const conversations = await db
    .selectFrom('agent_conversations')
    .select(['id', 'title', 'status', 'deleted_at'])
    .where('agent_id', '=', agentId)
    .execute();

  // The value a write carried, without its updatedAt (a write equal to the row's value is taken
  // without rewriting the row's time).
  const writtenValue = (content: unknown): unknown => {
    if (content === null || typeof content !== 'object') return content;
    const { updatedAt: _ignored, ...rest } = content as Record<string, unknown>;
    return rest;
  };
  const inConflicts = (entityId: string | null, content: unknown) =>
    conflicts.some(
      (c) =>
        (entityId === null || c.entity_id === entityId) &&
        [c.local_version, c.server_version, c.merged_version].some((v) =>
          jsonEqual(writtenValue((v as { content?: unknown } | null)?.content ?? null), writtenValue(content)),
        ),
    );
  const sentBy = new Map<string, { entity: string; mutation: { action: string; data: unknown } }>();
  for (const store of stores) {
    for (const entry of store.log) sentBy.set(`${store.id}:${entry.mutation.mutationId}`, entry);
  }
  const dataOf = (m: (typeof mutations)[number]) =>
    writtenValue(sentBy.get(`${m.client_id}:${m.mutation_id}`)?.mutation.data ?? null);
  // Overwritten by a write made after it was seen: the same client later; a write based on a
  // version at least as new; or a write of a client whose own earlier write of the row (one the
  // row took) was that very value, so it saw it.
  const superseded = (m: (typeof mutations)[number]) =>
    mutations.some(
      (later) =>
        later !== m &&
        later.entity_id === m.entity_id &&
        later.entity_type === m.entity_type &&
        (later.status === 'applied' || later.status === 'conflict') &&
        ((later.client_id === m.client_id && Number(later.mutation_id) > Number(m.mutation_id)) ||
          (later.base_version !== null &&
            m.server_version !== null &&
            BigInt(later.base_version) >= BigInt(m.server_version)) ||
          (later.server_version !== null &&
            m.server_version !== null &&
            BigInt(later.server_version) >= BigInt(m.server_version) &&
            mutations.some(
              (seen) =>
                seen.client_id === later.client_id &&
                seen.entity_id === m.entity_id &&
                seen.took_local &&
                Number(seen.mutation_id) < Number(later.mutation_id) &&
                jsonEqual(dataOf(seen), dataOf(m)),
            ))),
    );

  const lost: string[] = [];
  for (const m of mutations) {
    if (m.status !== 'applied' && m.status !== 'conflict') continue;
    const entry = sentBy.get(`${m.client_id}:${m.mutation_id}`);
    if (!entry) throw new Error(`the server applied mutation ${m.client_id}:${m.mutation_id} no client sent`);
    const data = entry.mutation.data as Record<string, unknown>;
    let kept = false;
    if (entry.entity === 'memory') {
      const row = memories.find((r) => r.id === m.entity_id);
      if (entry.mutation.action === 'delete') {
        kept = !row || row.deleted_at !== null || inConflicts(m.entity_id, null);
      } else {
        const wanted = memoryFields(data as SyncMemoryData);
        kept =
          (row !== undefined &&
            row.deleted_at === null &&
            jsonEqual(
              memoryFields({
                type: row.memory_type,
                key: row.key,
                content: row.content as SyncMemoryData['content'],
                summary: row.summary,
                importance: Number(row.importance),
                pinned: row.is_pinned,
                expiresAt: row.expires_at?.toISOString() ?? null,
              }),
              wanted,
            )) ||
          inConflicts(m.entity_id, data);
      }
    } else if (entry.mutation.action === 'append') {
      const messages = (data as { messages: Array<{ id: string }> }).messages;
      kept = messages.every((msg) => messageIds.has(msg.id)) || inConflicts(m.entity_id, { messages });
    } else {
      const row = conversations.find((c) => c.id === m.entity_id);
      if (entry.mutation.action === 'delete') kept = !row || row.deleted_at !== null || inConflicts(m.entity_id, null);
      else {
        const d = data as { title: string; status: string };
        kept =
          (row !== undefined && row.deleted_at === null && row.title === d.title && row.status === d.status) ||
          inConflicts(m.entity_id, data);
      }
    }
    if (!kept && !superseded(m)) lost.push(`${m.client_id}:${m.mutation_id} ${JSON.stringify(entry.mutation)}`);
  }
  if (lost.length > 0) throw new Error(`lost writes: ${lost.length}\n${lost.join('\n')}`);
  return { mutations: mutations.length, conflicts: conflicts.length };
}
