import { randomBytes } from 'node:crypto';
import { archiveExpiredMemories, buildContext, enforceMemoryLimits, sweepEmbeddings } from '@ora/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(modes)('memory and conversations (%s)', (mode) => {
  let server: TestServer;
  let agents: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer(mode, {
      env: {
        ORA_MEMORY_ENCRYPTION_KEY: ENCRYPTION_KEY,
        ORA_MEMORY_ENCRYPTED_TYPES: 'entity',
        ORA_MEMORY_NOSYNC_TYPES: 'entity,reflection',
        ORA_MEMORY_MAX_PER_AGENT: '6',
        ORA_CONVERSATION_SUMMARY_TOKENS: '1500',
      },
      // A worker runs the embedding jobs; maintenance passes are called by the tests.
      tasks: { worker: { concurrency: 2 }, maintenanceIntervalMs: false },
    });
    const rows = await server.system.database.db.selectFrom('agents').select(['id', 'slug']).execute();
    agents = Object.fromEntries(rows.map((r) => [r.slug, r.id]));
  });
  afterAll(async () => {
    await server?.close();
  });

  const db = () => server.system.database.db;
  const ok = async (action: string, data: unknown, key = server.rootKey) => {
    const res = await call(server, key, action, data);
    expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body.data;
  };
  async function newAgent(slug: string): Promise<string> {
    const row = await db()
      .insertInto('agents')
      .values({ slug: `${slug}-${randomBytes(3).toString('hex')}`, name: slug, model: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }
  async function newRun(agentId: string): Promise<string> {
    const row = await db()
      .insertInto('agent_runs')
      .values({ agent_id: agentId })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }
  const hybrid = mode === 'embedded';

  it('creates a memory at version 1, updates it as version 2, and adds no version for an identical write', async () => {
    const agentId = await newAgent('versions');
    const first = await ok('memory.upsert', {
      agentId,
      type: 'fact',
      key: 'operator.city',
      content: { city: 'Lisbon' },
      summary: 'The operator lives in Lisbon',
      importance: 0.8,
    });
    expect(first).toMatchObject({ created: true, changed: true, memory: { version: 1, importance: 0.8, sync: true } });
    const second = await ok('memory.upsert', {
      agentId,
      type: 'fact',
      key: 'operator.city',
      content: { city: 'Porto' },
    });
    expect(second).toMatchObject({ created: false, changed: true, memory: { id: first.memory.id, version: 2 } });
    // Absent fields keep their values.
    expect(second.memory).toMatchObject({ summary: 'The operator lives in Lisbon', importance: 0.8 });
    expect(BigInt(second.memory.serverVersion)).toBeGreaterThan(BigInt(first.memory.serverVersion));
    const same = await ok('memory.upsert', { agentId, type: 'fact', key: 'operator.city', content: { city: 'Porto' } });
    expect(same).toMatchObject({ changed: false, memory: { version: 2, serverVersion: second.memory.serverVersion } });

    const history = await ok('memory.history', { id: first.memory.id });
    expect(history.items.map((v: any) => [v.version, v.change, v.content])).toEqual([
      [2, 'update', { city: 'Porto' }],
      [1, 'insert', { city: 'Lisbon' }],
    ]);
    const keyId = (await db().selectFrom('api_keys').select('id').executeTakeFirstOrThrow()).id;
    expect(history.items[0].writtenBy).toEqual({ keyId, runId: null, taskId: null });

    const stale = await call(server, server.rootKey, 'memory.upsert', {
      agentId,
      type: 'fact',
      key: 'operator.city',
      content: 'x',
      expectedVersion: 1,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details.currentVersion).toBe(2);
    const audit = await db()
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', first.memory.id)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['memory.upsert', 'memory.upsert']);
  });

  it('gets a memory by id and by key, lists by filters a page at a time, and deletes it as a tombstone', async () => {
    const agentId = await newAgent('lists');
    for (let i = 0; i < 5; i++) {
      await ok('memory.upsert', {
        agentId,
        type: i % 2 ? 'skill' : 'fact',
        key: `item.${i}`,
        content: `item number ${i}`,
        importance: i / 10,
      });
    }
    const byKey = await ok('memory.get', { agentId, type: 'fact', key: 'item.2' });
    expect(byKey.content).toBe('item number 2');
    expect((await ok('memory.get', { id: byKey.id })).key).toBe('item.2');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await ok('memory.list', { agentId, limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((m: any) => m.key));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['item.4', 'item.3', 'item.2', 'item.1', 'item.0']);
    const skills = await ok('memory.list', { agentId, type: 'skill' });
    expect(skills.items.map((m: any) => m.key)).toEqual(['item.3', 'item.1']);
    const important = await ok('memory.list', { agentId, minImportance: 0.3 });
    expect(important.items.map((m: any) => m.key)).toEqual(['item.4', 'item.3']);

    const before = await db()
      .selectFrom('agent_memory')
      .select('server_version')
      .where('id', '=', byKey.id)
      .executeTakeFirstOrThrow();
    expect(await ok('memory.delete', { id: byKey.id })).toMatchObject({ id: byKey.id, deleted: true, version: 2 });
    expect((await call(server, server.rootKey, 'memory.get', { id: byKey.id })).status).toBe(404);
    const tombstone = await db()
      .selectFrom('agent_memory')
      .selectAll()
      .where('id', '=', byKey.id)
      .executeTakeFirstOrThrow();
    expect(tombstone.deleted_at).not.toBeNull();
    expect(BigInt(tombstone.server_version)).toBeGreaterThan(BigInt(before.server_version));
    expect((await ok('memory.history', { id: byKey.id })).items[0].change).toBe('delete');
  });

  it(`searches ${hybrid ? 'hybrid (full-text plus pgvector)' : 'full-text only (no pgvector)'}, with a score breakdown per hit and access counts recorded afterwards`, async () => {
    const agentId = await newAgent('search');
    const written = [
      ['pref.coffee', 'The operator drinks espresso every morning, never decaf'],
      ['pref.tea', 'Green tea in the afternoon'],
      ['fact.deploys', 'Deployments happen on Tuesdays after the standup meeting'],
    ];
    for (const [key, content] of written) await ok('memory.upsert', { agentId, type: 'preference', key, content });
    if (hybrid) {
      // The write returned at once; the worker embeds it shortly after.
      await until(
        () => ok('memory.list', { agentId }),
        (page) => page.items.every((m: any) => !m.embedding.pending && m.embedding.model?.startsWith('local/')),
      );
    }
    const result = await ok('memory.search', { agentId, query: 'which espresso does the operator drink?', limit: 2 });
    expect(result.mode).toBe(hybrid ? 'hybrid' : 'fulltext');
    expect(result.notice).toBe(hybrid ? null : 'pgvector is not installed in this database: full-text search only');
    expect(result.hits[0].memory.key).toBe('pref.coffee');
    const score = result.hits[0].score;
    expect(score).toMatchObject({ text: 1, importance: 0.5, frequency: 0 });
    if (hybrid) expect(score.vector).toBeGreaterThan(0.2);
    else expect(score.vector).toBeNull();
    const w = result.weights;
    expect(score.total).toBeCloseTo(
      w.relevance * score.relevance + w.importance * score.importance + w.recency * score.recency,
      5,
    );
    // Typos defeat the full-text index; the character n-grams of the local embedder still match.
    const typo = await ok('memory.search', { agentId, query: 'espreso mornings', limit: 1 });
    if (hybrid) expect(typo.hits[0].memory.key).toBe('pref.coffee');
    const vectorOnly = await ok('memory.search', { agentId, query: 'deploy day', mode: 'vector', limit: 1 });
    expect(vectorOnly.mode).toBe(hybrid ? 'vector' : 'fulltext');

    await server.system.memory.services.access.flush();
    const coffee = await ok('memory.get', { id: result.hits[0].memory.id });
    expect(coffee.accessCount).toBeGreaterThanOrEqual(1);
    expect(coffee.lastAccessedAt).not.toBeNull();
    expect(coffee.version).toBe(1); // access stats are not a write
  });

  it.runIf(hybrid)('re-embeds when the content changes, and when the configured model changes', async () => {
    const agentId = await newAgent('reembed');
    const { memory } = await ok('memory.upsert', { agentId, type: 'fact', key: 'k', content: 'first text' });
    const embedded = () =>
      db().selectFrom('agent_memory').selectAll().where('id', '=', memory.id).executeTakeFirstOrThrow();
    const v1 = await until(embedded, (r) => r.embedded_at !== null);
    await ok('memory.upsert', { agentId, type: 'fact', key: 'k', content: 'second, different text' });
    const v2 = await until(embedded, (r) => r.embedded_at !== null && r.content_hash !== v1.content_hash);
    expect(v2.embedding).not.toEqual(v1.embedding);

    // A row left by another model: the sweep hands it to the job, which embeds it again.
    await db()
      .updateTable('agent_memory')
      .set({ embedding_model: 'openai/old-model' })
      .where('id', '=', memory.id)
      .execute();
    expect(await sweepEmbeddings(server.system.memory.deps)).toBeGreaterThanOrEqual(1);
    const v3 = await until(embedded, (r) => r.embedding_model === server.system.memory.services.embedder.model);
    expect(v3.version).toBe(2);
  });

  it('undoes every memory write of one run: created ones archived, changed and deleted ones restored', async () => {
    const agentId = await newAgent('revert');
    const untouched = await ok('memory.upsert', { agentId, type: 'fact', key: 'untouched', content: 'keep me' });
    const changed = await ok('memory.upsert', { agentId, type: 'fact', key: 'changed', content: 'before the run' });
    const removed = await ok('memory.upsert', { agentId, type: 'fact', key: 'removed', content: 'deleted by the run' });
    const contested = await ok('memory.upsert', { agentId, type: 'fact', key: 'contested', content: 'original' });
    const runId = await newRun(agentId);

    const created = await ok('memory.upsert', {
      agentId,
      type: 'task',
      key: 'created',
      content: 'made by the run',
      runId,
    });
    await ok('memory.upsert', { agentId, type: 'fact', key: 'changed', content: 'run edit 1', runId });
    await ok('memory.upsert', { agentId, type: 'fact', key: 'changed', content: 'run edit 2', runId, importance: 0.9 });
    await ok('memory.delete', { id: removed.memory.id, runId });
    await ok('memory.upsert', { agentId, type: 'fact', key: 'contested', content: 'run edit', runId });
    // Someone else changes this one after the run: it is not silently overwritten.
    await ok('memory.upsert', { agentId, type: 'fact', key: 'contested', content: 'operator edit' });

    const history = await ok('memory.history', { id: changed.memory.id });
    expect(history.items[0].writtenBy.runId).toBe(runId);

    const result = await ok('memory.revert', { runId });
    const byId = Object.fromEntries(result.reverted.map((r: any) => [r.memoryId, r]));
    expect(byId[created.memory.id]).toMatchObject({ action: 'archived' });
    expect(byId[changed.memory.id]).toMatchObject({ action: 'restored', toVersion: 1, newVersion: 4 });
    expect(byId[removed.memory.id]).toMatchObject({ action: 'restored', toVersion: 1 });
    expect(result.skipped).toEqual([
      { memoryId: contested.memory.id, reason: expect.stringMatching(/changed after the run/) },
    ]);

    expect(await ok('memory.get', { id: changed.memory.id })).toMatchObject({
      content: 'before the run',
      importance: 0.5,
      version: 4,
    });
    expect(await ok('memory.get', { id: removed.memory.id })).toMatchObject({
      content: 'deleted by the run',
      archived: false,
    });
    expect(await ok('memory.get', { id: created.memory.id })).toMatchObject({ archived: true });
    expect((await ok('memory.get', { id: contested.memory.id })).content).toBe('operator edit');
    expect((await ok('memory.get', { id: untouched.memory.id })).version).toBe(1);
    expect((await ok('memory.history', { id: changed.memory.id })).items[0].change).toBe('revert');

    // A second revert finds nothing left to undo; force overwrites the later edit.
    const again = await ok('memory.revert', { runId });
    expect(again.reverted).toEqual([]);
    const forced = await ok('memory.revert', { runId, force: true });
    expect(forced.reverted.map((r: any) => r.memoryId)).toEqual([contested.memory.id]);
    expect((await ok('memory.get', { id: contested.memory.id })).content).toBe('original');
  });

  it('hides an expired memory at once, and maintenance archives it with a version', async () => {
    const agentId = await newAgent('expiry');
    const past = new Date(Date.now() - 1000).toISOString();
    const gone = await ok('memory.upsert', {
      agentId,
      type: 'context',
      key: 'gone',
      content: 'expired context',
      expiresAt: past,
    });
    await ok('memory.upsert', { agentId, type: 'context', key: 'kept', content: 'live context', ttlSeconds: 3600 });
    expect((await ok('memory.list', { agentId })).items.map((m: any) => m.key)).toEqual(['kept']);
    expect((await ok('memory.list', { agentId, expired: true })).items.map((m: any) => m.key)).toEqual(['gone']);
    expect((await call(server, server.rootKey, 'memory.get', { agentId, type: 'context', key: 'gone' })).status).toBe(
      404,
    );
    expect(
      (await ok('memory.search', { agentId, query: 'expired context' })).hits.map((h: any) => h.memory.key),
    ).not.toContain('gone');
    expect(await ok('memory.get', { id: gone.memory.id })).toMatchObject({ expired: true, archived: false });

    expect(await archiveExpiredMemories(server.system.memory.deps)).toBeGreaterThanOrEqual(1);
    expect(await ok('memory.get', { id: gone.memory.id })).toMatchObject({ archived: true, version: 2 });
    expect((await ok('memory.history', { id: gone.memory.id })).items[0]).toMatchObject({
      change: 'archive',
      archived: true,
    });
    expect((await ok('memory.list', { agentId, archived: true })).items.map((m: any) => m.key)).toEqual(['gone']);
  });

  it('evicts the lowest-scored unpinned memories of an agent over its limit into the archive, never deleting', async () => {
    const agentId = await newAgent('evict');
    // The limit is 6: eight memories, the least important one pinned.
    for (let i = 0; i < 8; i++) {
      await ok('memory.upsert', {
        agentId,
        type: 'fact',
        key: `m${i}`,
        content: `memory ${i}`,
        importance: i / 10,
        pinned: i === 0,
      });
    }
    expect(await enforceMemoryLimits(server.system.memory.deps)).toBeGreaterThanOrEqual(2);
    const live = await ok('memory.list', { agentId, limit: 50 });
    expect(live.items.map((m: any) => m.key).sort()).toEqual(['m0', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const archived = await ok('memory.list', { agentId, archived: true });
    expect(archived.items.map((m: any) => m.key).sort()).toEqual(['m1', 'm2']);
    const count = await db()
      .selectFrom('agent_memory')
      .select(sql<string>`count(*)`.as('n'))
      .where('agent_id', '=', agentId)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(8);
    const audit = await db()
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'memory.evict')
      .where('target_id', '=', agentId)
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('lets a key bound to an agent reach only that agent’s memories and conversations', async () => {
    const writer = agents.writer as string;
    const imager = agents.imager as string;
    const bound = (
      await ok('keys.create', { name: 'writer only', scopes: ['memory:*', 'conversations:*'], agentId: writer })
    ).secret;
    const mine = await ok(
      'memory.upsert',
      { type: 'fact', key: 'isolation.mine', content: 'writer secret recipe' },
      bound,
    );
    expect(mine.memory.agentId).toBe(writer);
    const theirs = await ok('memory.upsert', {
      agentId: imager,
      type: 'fact',
      key: 'isolation.theirs',
      content: 'imager secret recipe',
    });
    const ora = await ok('memory.upsert', {
      agentId: null,
      type: 'fact',
      key: 'isolation.ora',
      content: 'ora secret recipe',
    });

    expect(
      (await call(server, bound, 'memory.upsert', { agentId: imager, type: 'fact', key: 'x', content: 1 })).status,
    ).toBe(403);
    expect(
      (await call(server, bound, 'memory.upsert', { agentId: null, type: 'fact', key: 'x', content: 1 })).status,
    ).toBe(403);
    for (const id of [theirs.memory.id, ora.memory.id]) {
      expect((await call(server, bound, 'memory.get', { id })).status).toBe(404);
      expect((await call(server, bound, 'memory.history', { id })).status).toBe(404);
      expect((await call(server, bound, 'memory.archive', { id })).status).toBe(404);
      expect((await call(server, bound, 'memory.delete', { id })).status).toBe(404);
    }
    const listed = await ok('memory.list', { limit: 200 }, bound);
    expect(new Set(listed.items.map((m: any) => m.agentId))).toEqual(new Set([writer]));
    const found = await ok('memory.search', { query: 'secret recipe', limit: 10 }, bound);
    expect(found.hits.map((h: any) => h.memory.id)).toEqual([mine.memory.id]);

    const theirThread = await ok('conversations.create', { agentId: imager, title: 'imager thread' });
    const myThread = await ok('conversations.create', { title: 'writer thread' }, bound);
    expect(myThread.conversation.agentId).toBe(writer);
    expect((await call(server, bound, 'conversations.get', { id: theirThread.conversation.id })).status).toBe(404);
    const appendRes = await call(server, bound, 'conversations.append', {
      id: theirThread.conversation.id,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(appendRes.status).toBe(404);
    const threads = await ok('conversations.list', {}, bound);
    expect(threads.items.map((c: any) => c.id)).toEqual([myThread.conversation.id]);
  });

  it('stores encrypted memory types unreadable in the database (row and history), unindexed and unembedded, and readable through the API', async () => {
    const agentId = await newAgent('crypto');
    const secret = 'Alice Example, passport number X1234567, lives at 12 Hidden Lane';
    const written = await ok('memory.upsert', {
      agentId,
      type: 'entity',
      key: 'person.alice',
      content: { details: secret },
      summary: 'Alice passport details',
    });
    expect(written.memory).toMatchObject({ encrypted: true, sync: false, content: { details: secret } });
    await ok('memory.upsert', { agentId, type: 'entity', key: 'person.alice', content: { details: `${secret}!` } });

    const raw = await sql<Record<string, unknown>>`select * from agent_memory where id = ${written.memory.id}`.execute(
      db(),
    );
    const rowText = JSON.stringify(raw.rows[0]);
    expect(rowText).not.toContain('X1234567');
    expect(rowText).not.toContain('Alice');
    expect(raw.rows[0]).toMatchObject({ content_text: null, summary: null, content_hash: null, is_encrypted: true });
    expect(raw.rows[0]?.search === '' || raw.rows[0]?.search === null).toBe(true);
    const versions = await db()
      .selectFrom('agent_memory_versions')
      .selectAll()
      .where('memory_id', '=', written.memory.id)
      .execute();
    expect(versions).toHaveLength(2);
    expect(JSON.stringify(versions)).not.toContain('X1234567');

    expect((await ok('memory.get', { id: written.memory.id })).content).toEqual({ details: `${secret}!` });
    expect((await ok('memory.history', { id: written.memory.id })).items[1].content).toEqual({ details: secret });
    expect((await ok('memory.search', { agentId, query: 'Alice passport' })).hits).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await db()
      .selectFrom('agent_memory')
      .select(['embedded_at', 'embedding_model'])
      .where('id', '=', written.memory.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ embedded_at: null, embedding_model: null });
  });

  it('marks memory types configured as no-sync with sync false, whatever the write asks', async () => {
    const agentId = await newAgent('nosync');
    const reflection = await ok('memory.upsert', {
      agentId,
      type: 'reflection',
      key: 'r',
      content: 'private',
      sync: true,
    });
    expect(reflection.memory.sync).toBe(false);
    const fact = await ok('memory.upsert', { agentId, type: 'fact', key: 'f', content: 'shared' });
    expect(fact.memory.sync).toBe(true);
    const optedOut = await ok('memory.upsert', { agentId, type: 'fact', key: 'g', content: 'local only', sync: false });
    expect(optedOut.memory.sync).toBe(false);
  });

  it('keeps conversations: ids and roles, counts and tokens current, duplicates not appended twice, versions bumped', async () => {
    const created = await ok('conversations.create', {
      title: 'Planning',
      messages: [
        { id: 'm1', role: 'system', content: 'You are ORA.' },
        { id: 'm2', role: 'user', content: 'Plan a post about AI safety.' },
      ],
    });
    expect(created.conversation).toMatchObject({ messageCount: 2, version: 2, status: 'active' });
    expect(created.messages.map((m: any) => [m.id, m.role])).toEqual([
      ['m1', 'system'],
      ['m2', 'user'],
    ]);
    const tokens = created.messages.reduce((n: number, m: any) => n + m.tokenCount, 0);
    expect(created.conversation.tokenCount).toBe(tokens);
    expect(tokens).toBeGreaterThan(5);

    const appended = await ok('conversations.append', {
      id: created.conversation.id,
      messages: [
        { id: 'm2', role: 'user', content: 'Plan a post about AI safety.' },
        { id: 'm3', role: 'assistant', content: 'Here is a plan.' },
        { id: 'm4', role: 'tool', content: '{"ok":true}', metadata: { tool: 'search' } },
      ],
    });
    expect(appended.duplicates).toEqual(['m2']);
    expect(appended.appended.map((m: any) => m.id)).toEqual(['m3', 'm4']);
    expect(appended.conversation).toMatchObject({ messageCount: 4, version: 3 });
    expect(BigInt(appended.conversation.serverVersion)).toBeGreaterThan(BigInt(created.conversation.serverVersion));
    const seqs = appended.appended.map((m: any) => BigInt(m.seq));
    expect(seqs[1]).toBeGreaterThan(seqs[0]);

    const latest = await ok('conversations.get', { id: created.conversation.id, messagesLimit: 2 });
    expect(latest.messages.map((m: any) => m.id)).toEqual(['m3', 'm4']);
    expect(latest.hasMore).toBe(true);
    const older = await ok('conversations.get', { id: created.conversation.id, beforeSeq: latest.messages[0].seq });
    expect(older.messages.map((m: any) => m.id)).toEqual(['m1', 'm2']);
    expect(older.hasMore).toBe(false);

    const archived = await ok('conversations.archive', { id: created.conversation.id });
    expect(archived).toMatchObject({ status: 'archived', version: 4 });
    const listed = await ok('conversations.list', { status: 'archived' });
    expect(listed.items.map((c: any) => c.id)).toContain(created.conversation.id);
    const duplicate = await call(server, server.rootKey, 'conversations.create', { id: created.conversation.id });
    expect(duplicate.status).toBe(409);
  });

  it('summarises a long thread into its summary and keeps every message', async () => {
    const topics = [
      'budget for the launch',
      'the launch date in March',
      'hiring a designer',
      'the newsletter schedule',
    ];
    const messages = Array.from({ length: 30 }, (_, i) => ({
      id: `s${i}`,
      role: i % 2 ? 'assistant' : 'user',
      content: `We discussed ${topics[i % topics.length]} again in message ${i}. The decision about ${topics[i % topics.length]} stands.`,
    }));
    const { conversation } = await ok('conversations.create', { title: 'Long thread', messages });
    const result = await ok('conversations.summarize', { id: conversation.id, keepLast: 10 });
    expect(result.summarizedMessages).toBe(20);
    expect(result.summaryTokens).toBeGreaterThan(10);
    expect(result.conversation.summary).toMatch(/launch|designer|newsletter/);
    const all = await ok('conversations.get', { id: conversation.id, messagesLimit: 100 });
    expect(all.messages).toHaveLength(30);
    expect(result.conversation.summaryThroughSeq).toBe(all.messages[19].seq);
    const given = await ok('conversations.summarize', {
      id: conversation.id,
      summary: 'A plan for the launch.',
      keepLast: 5,
    });
    expect(given.conversation.summary).toBe('A plan for the launch.');
    expect(given.conversation.summaryThroughSeq).toBe(all.messages[24].seq);
  });

  it('summarises a thread past the token threshold in the background, keeping its messages', async () => {
    const paragraph = (i: number) =>
      `Paragraph ${i}: the launch plan covers pricing, the newsletter, partner outreach and the press kit. `.repeat(6);
    const { conversation } = await ok('conversations.create', {
      title: 'Very long thread',
      messages: Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: paragraph(i) })),
    });
    expect(conversation.tokenCount).toBeGreaterThan(3000);
    const summarised = await until(
      () => ok('conversations.get', { id: conversation.id, messagesLimit: 100 }),
      (c) => c.conversation.summaryThroughSeq !== null,
    );
    expect(summarised.conversation.summary).toMatch(/launch plan/);
    expect(summarised.messages).toHaveLength(40);
    // The latest 20 stay out of the summary.
    expect(summarised.conversation.summaryThroughSeq).toBe(summarised.messages[19].seq);
  });

  it('builds an agent’s context: relevant memories and the latest messages within the token budget, with what was left out and why', async () => {
    const agentId = await newAgent('context');
    const deps = server.system.memory.deps;
    await ok('memory.upsert', {
      agentId,
      type: 'preference',
      key: 'tone',
      content: 'Blog posts use a warm, plain tone',
    });
    await ok('memory.upsert', {
      agentId,
      type: 'fact',
      key: 'audience',
      content: 'Blog readers are small business owners',
    });
    await ok('memory.upsert', {
      agentId,
      type: 'instruction',
      key: 'long',
      content: `Blog style guide: ${'use short sentences and concrete examples; '.repeat(60)}`,
    });
    await ok('memory.upsert', {
      agentId,
      type: 'fact',
      key: 'unrelated',
      content: 'The office plants need water on Fridays',
    });
    const thread = await ok('conversations.create', {
      agentId,
      messages: Array.from({ length: 12 }, (_, i) => ({
        role: i % 2 ? 'assistant' : 'user',
        content: `Message ${i} about the next blog post draft and its outline, point ${i}.`,
      })),
    });
    await ok('conversations.summarize', { id: thread.conversation.id, keepLast: 4 });

    const context = await buildContext(deps, {
      agentId,
      query: 'write a blog post for our readers in our usual tone',
      conversationId: thread.conversation.id,
      tokenBudget: 160,
    });
    expect(context.tokens.used).toBeLessThanOrEqual(160);
    expect(context.tokens.used).toBe(context.tokens.memories + context.tokens.summary + context.tokens.messages);
    expect(context.memories.map((m) => m.key)).toEqual(expect.arrayContaining(['tone', 'audience']));
    const reasons = Object.fromEntries(context.omitted.filter((o) => o.kind === 'memory').map((o) => [o.id, o.reason]));
    const keyOf = async (id: string) => (await ok('memory.get', { id })).key;
    const omittedKeys = Object.fromEntries(
      await Promise.all(Object.entries(reasons).map(async ([id, reason]) => [await keyOf(id), reason])),
    );
    expect(context.memories.map((m) => m.key)).not.toContain('unrelated');
    // Full-text never finds it; the nearest vectors do, and it is left out as irrelevant.
    if (hybrid) expect(omittedKeys).toMatchObject({ unrelated: 'low_relevance' });
    expect(context.summary?.text, JSON.stringify(context)).toBeTruthy();
    // The latest messages, without gaps; the older ones are in the summary.
    const ids = context.messages.map((m) => m.id);
    const all = await ok('conversations.get', { id: thread.conversation.id });
    expect(ids).toEqual(all.messages.slice(-ids.length).map((m: any) => m.id));
    expect(ids.length).toBeGreaterThan(0);
    expect(
      context.omitted
        .filter((o) => o.kind === 'message')
        .every((o) => ['summarized', 'over_budget'].includes(o.reason)),
    ).toBe(true);
    expect(context.omitted.some((o) => o.kind === 'message' && o.reason === 'summarized')).toBe(true);

    // A roomy budget takes everything relevant; the long memory is cut to its cap.
    const roomy = await buildContext(deps, {
      agentId,
      query: 'blog style tone readers',
      tokenBudget: 5000,
      maxMemoryTokens: 100,
    });
    const long = roomy.memories.find((m) => m.key === 'long');
    expect(long).toMatchObject({ truncated: true });
    expect(long?.tokens).toBeLessThanOrEqual(101);
  });
});
