import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { InMemorySyncStore, OraClient, SyncClient } from '@ora/client';
import type { SyncConflict, SyncMemoryData, SyncStrategy } from '@ora/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSyncCheck } from '../src/cli/sync-check';
import { availableModes, call, startTestServer, type TestServer } from './harness';
import { runScenario, scenarioArbitrary } from './sync-model';

const modes = await availableModes();

const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function memoryData(
  key: string,
  content: unknown,
  seconds: number,
  extra: Partial<SyncMemoryData> = {},
): SyncMemoryData {
  return {
    agentId: null,
    type: 'fact',
    key,
    content: content as SyncMemoryData['content'],
    summary: null,
    importance: 0.5,
    pinned: false,
    expiresAt: null,
    updatedAt: at(seconds),
    ...extra,
  };
}

describe.each(modes)('sync (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode, {
      env: {
        ORA_SYNC_STRATEGIES: 'preference=manual,skill=merge',
        ORA_MEMORY_NOSYNC_TYPES: 'reflection',
        ORA_SYNC_PUSH_BATCH: '7',
      },
      tasks: { worker: { concurrency: 1 }, maintenanceIntervalMs: false },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const ok = async (action: string, data: unknown, key = server.rootKey) => {
    const res = await call(server, key, action, data);
    expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body.data;
  };
  const clientId = (name: string) => `${name}-${randomUUID()}`;

  /** Pulls every page for a client from a cursor, returning the pages. */
  async function pullAll(client: string, cursor = '0', limit = 500, key = server.rootKey) {
    const pages = [];
    for (;;) {
      const page = await ok('sync.pull', { clientId: client, cursor, limit }, key);
      pages.push(page);
      cursor = page.cursor;
      if (!page.hasMore) return { pages, cursor };
    }
  }

  /** A memory both clients hold at the same version, then A changes it: B's stale write conflicts. */
  async function staleWrite(
    strategy: SyncStrategy | undefined,
    type: SyncMemoryData['type'],
    server1: { content: unknown; seconds: number },
    local: { content: unknown; seconds: number },
  ) {
    const key = `k.${randomUUID()}`;
    const id = randomUUID();
    const a = clientId('a');
    const b = clientId('b');
    const created = await ok('sync.push', {
      clientId: a,
      memories: [
        {
          syncId: id,
          mutationId: 1,
          action: 'upsert',
          baseVersion: null,
          data: memoryData(key, { v: 0 }, 0, { type }),
        },
      ],
    });
    const base = created.mutations[0].serverVersion;
    const changed = await ok('sync.push', {
      clientId: a,
      memories: [
        {
          syncId: id,
          mutationId: 2,
          action: 'upsert',
          baseVersion: base,
          data: memoryData(key, server1.content, server1.seconds, { type }),
        },
      ],
    });
    expect(changed.mutations[0].status).toBe('applied');
    const answer = await ok('sync.push', {
      clientId: b,
      ...(strategy ? { strategy } : {}),
      memories: [
        {
          syncId: id,
          mutationId: 1,
          action: 'upsert',
          baseVersion: base,
          data: memoryData(key, local.content, local.seconds, { type }),
        },
      ],
    });
    const stored = await ok('memory.get', { id });
    return { id, key, answer, stored, conflict: answer.results.memories.conflicts[0]?.conflict as SyncConflict };
  }

  it('applies a push once: a replayed push is answered from its record, not applied again', async () => {
    const client = clientId('replay');
    const id = randomUUID();
    const push = {
      clientId: client,
      memories: [
        { syncId: id, mutationId: 1, action: 'upsert', baseVersion: null, data: memoryData('replay', { a: 1 }, 1) },
      ],
    };
    const first = await ok('sync.push', push);
    expect(first.mutations).toEqual([
      expect.objectContaining({ mutationId: 1, syncId: id, status: 'applied', conflictId: null }),
    ]);
    expect(first.lastMutationId).toBe(1);
    const again = await ok('sync.push', push);
    expect(again.mutations[0]).toMatchObject({
      status: 'replayed',
      replayedStatus: 'applied',
      serverVersion: first.mutations[0].serverVersion,
    });
    expect(again.results.memories.acked).toEqual([id]);
    const memory = await ok('memory.get', { id });
    expect(memory).toMatchObject({ version: 1, content: { a: 1 }, source: 'sync' });
  });

  it('refuses a gap in mutation ids with CONFLICT and the id it expects', async () => {
    const client = clientId('gap');
    await ok('sync.push', {
      clientId: client,
      memories: [
        {
          syncId: randomUUID(),
          mutationId: 1,
          action: 'upsert',
          baseVersion: null,
          data: memoryData(`g.${randomUUID()}`, 1, 1),
        },
      ],
    });
    const res = await call(server, server.rootKey, 'sync.push', {
      clientId: client,
      memories: [
        {
          syncId: randomUUID(),
          mutationId: 3,
          action: 'upsert',
          baseVersion: null,
          data: memoryData(`g.${randomUUID()}`, 1, 1),
        },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'CONFLICT', details: { expectedMutationId: 2, lastMutationId: 1 } });
    const dup = await call(server, server.rootKey, 'sync.push', {
      clientId: client,
      memories: [
        { syncId: randomUUID(), mutationId: 2, action: 'delete', baseVersion: null, data: { updatedAt: at(1) } },
        { syncId: randomUUID(), mutationId: 2, action: 'delete', baseVersion: null, data: { updatedAt: at(1) } },
      ],
    });
    expect(dup.status).toBe(400);
  });

  it('applies a long push in batches, in mutation id order across memories and conversations', async () => {
    const client = clientId('batches');
    const conversation = randomUUID();
    const memories = Array.from({ length: 20 }, (_, i) => ({
      syncId: randomUUID(),
      mutationId: i * 2 + 1,
      action: 'upsert',
      baseVersion: null,
      data: memoryData(`batch.${i}.${randomUUID()}`, { i }, i),
    }));
    const conversations = Array.from({ length: 20 }, (_, i) => ({
      syncId: conversation,
      mutationId: i * 2 + 2,
      action: 'append',
      baseVersion: null,
      data: { messages: [{ id: `m${i}`, role: 'user', content: `message ${i}`, createdAt: at(i) }] },
    }));
    const answer = await ok('sync.push', { clientId: client, memories, conversations });
    expect(answer.lastMutationId).toBe(40);
    expect(answer.mutations.map((m: { mutationId: number }) => m.mutationId)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    expect(answer.mutations.every((m: { status: string }) => m.status === 'applied')).toBe(true);
    const got = await ok('conversations.get', { id: conversation, messagesLimit: 100 });
    expect(got.messages.map((m: { id: string }) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('pulls changes after a cursor in pages, with tombstones, up to the newest', async () => {
    const status0 = await ok('sync.status', {});
    const start = status0.serverVersion;
    const client = clientId('pull');
    const ids = Array.from({ length: 12 }, () => randomUUID());
    await ok('sync.push', {
      clientId: client,
      memories: ids.map((id, i) => ({
        syncId: id,
        mutationId: i + 1,
        action: 'upsert',
        baseVersion: null,
        data: memoryData(`page.${id}`, { i }, i),
      })),
    });
    const first = await pullAll(client, start, 5);
    const pulled = first.pages.flatMap((p) => p.memories.map((m: { id: string }) => m.id));
    expect(first.pages.length).toBeGreaterThanOrEqual(3);
    expect(new Set(pulled)).toEqual(new Set(ids));
    for (const page of first.pages.slice(0, -1)) expect(page.hasMore).toBe(true);

    const versions = await ok('sync.pull', { clientId: client, cursor: first.cursor });
    expect(versions).toMatchObject({
      memories: [],
      conversations: [],
      tombstones: [],
      hasMore: false,
      cursor: first.cursor,
    });

    const deleted = ids[0] as string;
    const del = await ok('sync.push', {
      clientId: client,
      memories: [{ syncId: deleted, mutationId: 13, action: 'delete', baseVersion: null, data: { updatedAt: at(50) } }],
    });
    // Based on nothing (null), as its creation was: this client's own write, continued, not a conflict.
    expect(del.mutations[0]).toMatchObject({ status: 'applied' });
    const after = await pullAll(client, first.cursor);
    const tombstones = after.pages.flatMap((p) => p.tombstones);
    expect(tombstones).toEqual([expect.objectContaining({ type: 'memory', id: deleted })]);
    const status = await ok('sync.status', { clientId: client });
    expect(status.client).toMatchObject({ clientId: client, lastMutationId: 13, lastPullCursor: after.cursor });
    expect(BigInt(status.serverVersion)).toBeGreaterThanOrEqual(BigInt(after.cursor));
  });

  it('last_write_wins: the later write wins, the server wins a tie, the loser stays in the conflict', async () => {
    const later = await staleWrite(
      undefined,
      'fact',
      { content: { by: 'server' }, seconds: 10 },
      { content: { by: 'local' }, seconds: 20 },
    );
    expect(later.stored.content).toEqual({ by: 'local' });
    expect(later.conflict).toMatchObject({
      strategy: 'last_write_wins',
      outcome: 'local_applied',
      status: 'resolved',
      localVersion: { content: { content: { by: 'local' } } },
      serverVersion: { content: { content: { by: 'server' } } },
    });
    const tie = await staleWrite(
      'last_write_wins',
      'fact',
      { content: { by: 'server' }, seconds: 10 },
      { content: { by: 'local' }, seconds: 10 },
    );
    expect(tie.stored.content).toEqual({ by: 'server' });
    expect(tie.conflict).toMatchObject({
      outcome: 'server_kept',
      localVersion: { content: { content: { by: 'local' } } },
    });
  });

  it('server_wins keeps the server copy and records the local one; local_wins the reverse', async () => {
    const s = await staleWrite('server_wins', 'fact', { content: 's', seconds: 5 }, { content: 'l', seconds: 99 });
    expect(s.stored.content).toBe('s');
    expect(s.conflict).toMatchObject({
      strategy: 'server_wins',
      outcome: 'server_kept',
      localVersion: { content: { content: 'l' } },
    });
    expect(s.answer.mutations[0].status).toBe('conflict');
    const l = await staleWrite('local_wins', 'fact', { content: 's', seconds: 99 }, { content: 'l', seconds: 5 });
    expect(l.stored.content).toBe('l');
    expect(l.conflict).toMatchObject({
      strategy: 'local_wins',
      outcome: 'local_applied',
      serverVersion: { content: { content: 's' } },
    });
  });

  it('merge combines JSON objects per field and keeps both originals; per-type config picks it', async () => {
    const m = await staleWrite(
      undefined,
      'skill',
      { content: { name: 'x', tags: ['a', 'b'], server: 1, nested: { s: 1, both: 's' } }, seconds: 10 },
      { content: { name: 'y', tags: ['b', 'c'], local: 2, nested: { l: 2, both: 'l' } }, seconds: 20 },
    );
    expect(m.conflict).toMatchObject({ strategy: 'merge', outcome: 'merged' });
    expect(m.stored.content).toEqual({
      name: 'y',
      tags: ['b', 'c', 'a'],
      server: 1,
      local: 2,
      nested: { s: 1, l: 2, both: 'l' },
    });
    expect(m.conflict.mergedVersion?.content).toMatchObject({ content: m.stored.content });
    expect(m.conflict.localVersion.content).toMatchObject({ content: { name: 'y', local: 2 } });
    expect(m.conflict.serverVersion.content).toMatchObject({ content: { name: 'x', server: 1 } });
    // Not an object on both sides: last_write_wins decides.
    const scalar = await staleWrite('merge', 'fact', { content: 'old', seconds: 30 }, { content: 'new', seconds: 10 });
    expect(scalar.stored.content).toBe('old');
    expect(scalar.conflict).toMatchObject({ strategy: 'merge', outcome: 'server_kept' });
  });

  it('manual keeps the server copy until sync.resolve applies a side as a new version', async () => {
    const m = await staleWrite(
      undefined,
      'preference',
      { content: { tz: 'UTC' }, seconds: 10 },
      { content: { tz: 'CET' }, seconds: 20 },
    );
    expect(m.conflict).toMatchObject({ strategy: 'manual', outcome: 'pending', status: 'pending' });
    expect(m.stored.content).toEqual({ tz: 'UTC' });
    const pending = await ok('sync.conflicts', { status: 'pending' });
    expect(pending.items.map((c: SyncConflict) => c.id)).toContain(m.conflict.id);
    const status = await ok('sync.status', {});
    expect(status.pendingConflicts.map((c: SyncConflict) => c.id)).toContain(m.conflict.id);

    const resolved = await ok('sync.resolve', { conflictId: m.conflict.id, keep: 'local' });
    expect(resolved.conflict).toMatchObject({ status: 'resolved', outcome: 'resolved_local' });
    const after = await ok('memory.get', { id: m.id });
    expect(after.content).toEqual({ tz: 'CET' });
    expect(BigInt(resolved.serverVersion)).toBeGreaterThan(BigInt(m.stored.serverVersion));
    const again = await call(server, server.rootKey, 'sync.resolve', { conflictId: m.conflict.id, keep: 'server' });
    expect(again.status).toBe(409);

    const other = await staleWrite(
      'manual',
      'fact',
      { content: { a: 1 }, seconds: 10 },
      { content: { b: 2 }, seconds: 20 },
    );
    const bad = await call(server, server.rootKey, 'sync.resolve', {
      conflictId: other.conflict.id,
      keep: 'merged',
      merged: { nope: 1 },
    });
    expect(bad.status).toBe(400);
    const merged = await ok('sync.resolve', {
      conflictId: other.conflict.id,
      keep: 'merged',
      merged: memoryData(other.key, { a: 1, b: 2 }, 30),
    });
    expect(merged.conflict).toMatchObject({
      outcome: 'resolved_merged',
      mergedVersion: { content: { content: { a: 1, b: 2 } } },
    });
    expect((await ok('memory.get', { id: other.id })).content).toEqual({ a: 1, b: 2 });
    const missing = await call(server, server.rootKey, 'sync.resolve', { conflictId: randomUUID(), keep: 'server' });
    expect(missing.status).toBe(404);
  });

  it('conversations: appends from two clients are a union by id; a stale title is settled by strategy', async () => {
    const id = randomUUID();
    const a = clientId('ca');
    const b = clientId('cb');
    const msg = (mid: string, s: number) => ({ id: mid, role: 'user', content: `text ${mid}`, createdAt: at(s) });
    const created = await ok('sync.push', {
      clientId: a,
      conversations: [
        {
          syncId: id,
          mutationId: 1,
          action: 'upsert',
          baseVersion: null,
          data: { agentId: null, title: 'T', status: 'active', updatedAt: at(1) },
        },
      ],
    });
    const base = created.mutations[0].serverVersion;
    await ok('sync.push', {
      clientId: a,
      conversations: [
        {
          syncId: id,
          mutationId: 2,
          action: 'append',
          baseVersion: base,
          data: { messages: [msg('a1', 3), msg('a2', 5)] },
        },
      ],
    });
    const fromB = await ok('sync.push', {
      clientId: b,
      conversations: [
        {
          syncId: id,
          mutationId: 1,
          action: 'append',
          baseVersion: base,
          data: { messages: [msg('b1', 4), msg('a1', 3)] },
        },
        {
          syncId: id,
          mutationId: 2,
          action: 'upsert',
          baseVersion: base,
          data: { agentId: null, title: 'from b', status: 'active', updatedAt: at(0) },
        },
      ],
    });
    expect(fromB.mutations.map((m: { status: string }) => m.status)).toEqual(['applied', 'conflict']);
    expect(fromB.results.conversations.conflicts[0].conflict).toMatchObject({
      type: 'conversation',
      outcome: 'server_kept',
      localVersion: { content: { title: 'from b' } },
    });
    const got = await ok('conversations.get', { id, messagesLimit: 50 });
    expect(got.conversation.title).toBe('T');
    expect(got.messages.map((m: { id: string }) => m.id).sort()).toEqual(['a1', 'a2', 'b1']);
    const pulled = await pullAll(clientId('cc'));
    const conv = pulled.pages.flatMap((p) => p.conversations).filter((c: { id: string }) => c.id === id);
    expect(conv.flatMap((c: { messages: Array<{ id: string }> }) => c.messages.map((m) => m.id)).sort()).toEqual([
      'a1',
      'a2',
      'b1',
    ]);
  });

  it('scope: memories that do not sync never leave the server and are refused on push', async () => {
    const client = clientId('scope');
    const refused = await ok('sync.push', {
      clientId: client,
      memories: [
        {
          syncId: randomUUID(),
          mutationId: 1,
          action: 'upsert',
          baseVersion: null,
          data: memoryData('r', 1, 1, { type: 'reflection' }),
        },
      ],
    });
    expect(refused.mutations[0]).toMatchObject({ status: 'refused', reason: expect.stringContaining('reflection') });
    expect(refused.results.memories.acked).toEqual([]);
    const hidden = await ok('memory.upsert', {
      type: 'fact',
      key: `hidden.${randomUUID()}`,
      content: { secret: true },
      sync: false,
    });
    const pulled = await pullAll(client);
    const all = pulled.pages.flatMap((p) => p.memories);
    expect(all.find((m: { id: string }) => m.id === hidden.memory.id)).toBeUndefined();
    expect(JSON.stringify(pulled.pages)).not.toContain('"secret":true');
    const write = await ok('sync.push', {
      clientId: client,
      memories: [
        {
          syncId: hidden.memory.id,
          mutationId: 2,
          action: 'upsert',
          baseVersion: hidden.memory.serverVersion,
          data: memoryData(hidden.memory.key, { secret: false }, 1),
        },
      ],
    });
    expect(write.mutations[0].status).toBe('refused');
    expect((await ok('memory.get', { id: hidden.memory.id })).content).toEqual({ secret: true });
    // The refused mutation used its id up.
    expect(write.lastMutationId).toBe(2);
  });

  it('a key bound to an agent syncs only that agent’s rows', async () => {
    const agents = await server.system.database.db
      .selectFrom('agents')
      .select(['id', 'slug'])
      .orderBy('slug')
      .execute();
    const [mine, other] = agents as unknown as [{ id: string }, { id: string }];
    const key = await ok('keys.create', { name: 'bound', agentId: mine.id, scopes: ['sync:read', 'sync:write'] });
    const client = clientId('bound');
    const ownId = randomUUID();
    const answer = await ok(
      'sync.push',
      {
        clientId: client,
        memories: [
          {
            syncId: ownId,
            mutationId: 1,
            action: 'upsert',
            baseVersion: null,
            data: memoryData(`own.${ownId}`, 1, 1, { agentId: mine.id }),
          },
          {
            syncId: randomUUID(),
            mutationId: 2,
            action: 'upsert',
            baseVersion: null,
            data: memoryData('theirs', 1, 1, { agentId: other.id }),
          },
          { syncId: randomUUID(), mutationId: 3, action: 'upsert', baseVersion: null, data: memoryData('ora', 1, 1) },
        ],
      },
      key.secret,
    );
    expect(answer.mutations.map((m: { status: string }) => m.status)).toEqual(['applied', 'refused', 'refused']);
    const theirs = await ok('memory.upsert', { agentId: other.id, type: 'fact', key: `t.${randomUUID()}`, content: 1 });
    const pulled = await pullAll(client, '0', 500, key.secret);
    const ids = pulled.pages.flatMap((p) => [...p.memories, ...p.tombstones].map((m: { id: string }) => m.id));
    expect(ids).toContain(ownId);
    expect(ids).not.toContain(theirs.memory.id);
    for (const page of pulled.pages) {
      for (const m of page.memories) expect(m.agentId).toBe(mine.id);
    }
    const steal = await call(server, key.secret, 'sync.pull', { clientId: clientId('scope') });
    expect(steal.status).toBe(200);
  });

  it('a memory changed by sync is embedded again', async () => {
    const id = randomUUID();
    const client = clientId('embed');
    const first = await ok('sync.push', {
      clientId: client,
      memories: [
        {
          syncId: id,
          mutationId: 1,
          action: 'upsert',
          baseVersion: null,
          data: memoryData(`e.${id}`, 'the first text', 1),
        },
      ],
    });
    const db = server.system.database.db;
    const vectors = server.system.memory.services.vector !== null;
    const wait = async () => {
      for (let i = 0; i < 200; i++) {
        const row = await db
          .selectFrom('agent_memory')
          .select(['embedded_at', 'content_hash'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        if (row.embedded_at) return row;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('not embedded');
    };
    if (vectors) await wait();
    await ok('sync.push', {
      clientId: client,
      memories: [
        {
          syncId: id,
          mutationId: 2,
          action: 'upsert',
          baseVersion: first.mutations[0].serverVersion,
          data: memoryData(`e.${id}`, 'another text', 2),
        },
      ],
    });
    const changed = await db
      .selectFrom('agent_memory')
      .select(['embedded_at', 'content_hash'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (vectors) {
      const embedded = await wait();
      expect(embedded.content_hash).toBe(changed.content_hash);
    } else {
      expect(changed.embedded_at).toBeNull();
    }
  });

  let listening: string | null = null;
  async function baseUrl(): Promise<string> {
    if (!listening) {
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      listening = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    }
    return listening;
  }

  it('the reference client renumbers its outbox after a gap and syncs on', async () => {
    const client = new OraClient({ baseUrl: await baseUrl(), apiKey: server.rootKey });
    const store = new InMemorySyncStore(clientId('gapped'));
    await store.writeMemory(randomUUID(), memoryData(`gap.${randomUUID()}`, 1, 1));
    await new SyncClient(client, store).push();
    // An id taken and lost (a crash between taking it and storing the mutation): the next one leaves a gap.
    await store.nextMutationId();
    const id = randomUUID();
    await store.writeMemory(id, memoryData(`gap.${id}`, 2, 2));
    expect(store.outbox[0]?.mutation.mutationId).toBe(3);
    const report = await new SyncClient(client, store).syncOnce();
    expect(report.push).toMatchObject({ renumbered: 1, applied: 1 });
    expect(store.outbox).toEqual([]);
    expect(store.answers.get(2)).toMatchObject({ status: 'applied', syncId: id });
    expect(store.memories.get(id)?.serverVersion).not.toBeNull();
  });

  it('ora sync check: a synced replica matches (exit 0); a changed one lists missing, extra and differing rows (exit 1)', async () => {
    const agent = await server.system.database.db
      .insertInto('agents')
      .values({ slug: `check-${randomUUID()}`, name: 'check', model: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const key = await ok('keys.create', { name: 'check', agentId: agent.id, scopes: ['sync:read', 'sync:write'] });
    const client = new OraClient({ baseUrl: await baseUrl(), apiKey: key.secret });
    const store = new InMemorySyncStore(clientId('check'));
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, id] of ids.entries()) {
      await store.writeMemory(id, memoryData(`check.${i}`, { i }, i, { agentId: agent.id }));
    }
    await store.appendMessages(randomUUID(), agent.id, [
      { id: 'hello', role: 'user', content: 'hello', metadata: {}, createdAt: at(1) },
    ]);
    await new SyncClient(client, store).syncOnce();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ora-sync-check-'));
    const file = path.join(dir, 'snapshot.json');
    const lines: string[] = [];
    const io = { out: (t: string) => void lines.push(t), note: () => undefined };
    await writeFile(file, JSON.stringify(store.snapshot()));
    expect(await runSyncCheck(client, { snapshotPath: file }, io)).toBe(0);
    expect(lines).toEqual([]);

    const snapshot = store.snapshot();
    snapshot.memories = snapshot.memories.filter((m) => m.id !== ids[0]);
    const changed = snapshot.memories.find((m) => m.id === ids[1]);
    if (changed) changed.content = { i: 'changed' };
    snapshot.memories.push({
      ...memoryData('check.extra', 1, 1, { agentId: agent.id }),
      id: randomUUID(),
      serverVersion: null,
      localOnly: false,
    });
    await writeFile(file, JSON.stringify(snapshot));
    expect(await runSyncCheck(client, { snapshotPath: file }, io)).toBe(1);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['missing', 'differs', 'extra']);
    expect(lines.join('\n')).toContain(ids[0]);
    expect(lines.join('\n')).toContain('differs in content');
    await writeFile(file, '{"format":"nope"}');
    await expect(runSyncCheck(client, { snapshotPath: file }, io)).rejects.toThrow(/not a sync snapshot/);
  });

  it('the sync model through real HTTP: replicas converge, no write is lost (8 runs)', async () => {
    const url = await baseUrl();
    const db = server.system.database.db;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const agent = await db
          .insertInto('agents')
          .values({ slug: `http-model-${randomUUID()}`, name: 'model', model: null })
          .returning('id')
          .executeTakeFirstOrThrow();
        const key = await ok('keys.create', { name: 'model', agentId: agent.id, scopes: ['sync:read', 'sync:write'] });
        const client = new OraClient({ baseUrl: url, apiKey: key.secret });
        // The process is the test's own: a restart here is a no-op (the in-process model restarts).
        await runScenario(
          { call: (action, data) => client.call(action, data), restart: async () => {}, db: () => db },
          agent.id,
          scenario,
        );
      }),
      { numRuns: 8, endOnFailure: true },
    );
  }, 120_000);
});
