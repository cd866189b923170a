import { FeatureHashingEmbedder } from '@ora/retrieval';
import { afterAll, describe, expect, it } from 'vitest';
import { retrievalSet } from '../../../api/test/fixtures/memory-retrieval';
import { parseCommand } from './commands';
import { LocalStore } from './store';
import { COARSE_DIMENSIONS, fold, localEmbedder } from './vector-index';

describe('the local store', () => {
  const stores: LocalStore[] = [];
  const open = () => {
    const store = new LocalStore(':memory:');
    stores.push(store);
    return store;
  };
  afterAll(() => {
    for (const store of stores) store.close();
  });

  it('folds the server’s 1536-dimension embedding into exactly the same embedder’s 384-dimension one', () => {
    const narrow = new FeatureHashingEmbedder({ dimensions: COARSE_DIMENSIONS });
    for (const text of ['The operator drinks a double espresso', 'publishing newsletters on Thursdays', 'Café ß']) {
      const folded = fold(localEmbedder.embedSync(text));
      const direct = narrow.embedSync(text);
      for (let i = 0; i < COARSE_DIMENSIONS; i++) expect(folded[i]).toBeCloseTo(direct[i] as number, 5);
    }
  });

  it('finds the labelled memories as the server does (recall@5 over the memory retrieval set)', () => {
    const store = open();
    const { memories, queries } = retrievalSet();
    for (const m of memories) store.upsertMemory({ type: m.type, key: m.key, content: m.content });
    let sum = 0;
    const misses: string[] = [];
    for (const q of queries) {
      const keys = store.searchMemories(q.query, { limit: 5, recordAccess: false }).map((h) => h.memory.key);
      const found = q.expected.filter((k) => keys.includes(k)).length / q.expected.length;
      if (found < 1) misses.push(q.query);
      sum += found;
    }
    const recall = sum / queries.length;
    process.stdout.write(`local hybrid recall@5 on the labelled set: ${recall.toFixed(3)}\n`);
    // The server's hybrid search scores 0.958 on this set.
    expect(recall, `missed: ${misses.join(' | ')}`).toBeGreaterThanOrEqual(0.9);
    // A misspelt query still finds its memory through the vectors.
    const keys = store.searchMemories('espreso before meetings', { limit: 3 }).map((h) => h.memory.key);
    expect(keys).toContain('op.coffee');
  });

  it('numbers mutations without gaps, folds unsent edits of a row into one, and never merges into a sent one', () => {
    const store = open();
    const first = store.upsertMemory({ type: 'fact', key: 'a', content: 1 });
    store.upsertMemory({ type: 'fact', key: 'a', content: 2 });
    store.upsertMemory({ type: 'fact', key: 'b', content: 'x' });
    expect(store.outbox().map((e) => [e.mutationId, e.syncId, e.data])).toEqual([
      [1, first.id, expect.objectContaining({ content: 2 })],
      [2, expect.any(String), expect.objectContaining({ content: 'x' })],
    ]);
    const sent = store.pendingMutations(10);
    expect(sent.map((p) => p.mutation.mutationId)).toEqual([1, 2]);
    store.upsertMemory({ type: 'fact', key: 'a', content: 3 });
    expect(store.outbox().map((e) => e.mutationId)).toEqual([1, 2, 3]);
    store.ackMutations([
      { mutationId: 1, syncId: first.id, status: 'applied', serverVersion: '10', conflictId: null },
      {
        mutationId: 2,
        syncId: sent[1]?.mutation.syncId as string,
        status: 'applied',
        serverVersion: '11',
        conflictId: null,
      },
    ]);
    // Mutation 3 still waits on row a, so its version stays the one it was based on.
    expect(store.getMemory(first.id)?.serverVersion).toBeNull();
    expect(store.getMemoryByKey('fact', 'b')?.serverVersion).toBe('11');
    // After a gap refusal the waiting mutations follow the server's last id.
    // (here the server reports 1 as its last: a restored backup)
    store.renumberPending(1);
    expect(store.outbox().map((e) => e.mutationId)).toEqual([2]);
    expect(store.lastMutationId).toBe(2);
  });

  it('keeps a row with a pending local change when the server’s copy arrives, and takes it once pushed', () => {
    const store = open();
    const mine = store.upsertMemory({ type: 'fact', key: 'k', content: 'mine' });
    const server = {
      id: mine.id,
      agentId: null,
      type: 'fact' as const,
      key: 'k',
      content: 'server',
      summary: null,
      importance: 0.5,
      pinned: false,
      expiresAt: null,
      updatedAt: new Date().toISOString(),
      serverVersion: '5',
      version: 2,
      createdAt: new Date().toISOString(),
    };
    store.applyPulledPage({ memories: [server], conversations: [], tombstones: [] });
    expect(store.getMemory(mine.id)?.content).toBe('mine');
    store.pendingMutations(10);
    store.ackMutations([{ mutationId: 1, syncId: mine.id, status: 'conflict', serverVersion: '6', conflictId: null }]);
    store.applyPulledPage({ memories: [{ ...server, serverVersion: '6' }], conversations: [], tombstones: [] });
    expect(store.getMemory(mine.id)).toMatchObject({ content: 'server', serverVersion: '6', pending: false });
    store.applyPulledPage({
      memories: [],
      conversations: [],
      tombstones: [{ type: 'memory', id: mine.id, serverVersion: '7', deletedAt: new Date().toISOString() }],
    });
    expect(store.getMemory(mine.id)).toBeNull();
    expect(store.searchMemories('server')).toEqual([]);
  });
});

describe('the command parser', () => {
  it('reads each slash command, and sends anything else to the planner', () => {
    expect(parseCommand('/task writer Draft a post about tides')).toEqual({
      kind: 'task',
      agent: 'writer',
      instruction: 'Draft a post about tides',
    });
    expect(parseCommand('/workflow publish_post topic="AI safety" keywords=ai draft=true')).toEqual({
      kind: 'workflow',
      name: 'publish_post',
      input: { topic: 'AI safety', keywords: 'ai', draft: true },
    });
    expect(parseCommand('/workflow publish_post {"topic":"tides"}')).toMatchObject({ input: { topic: 'tides' } });
    expect(parseCommand('/workflow publish_post topic=')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('/remember preference editor = helix')).toEqual({
      kind: 'remember',
      type: 'preference',
      key: 'editor',
      content: 'helix',
    });
    expect(parseCommand('/remember The operator likes short posts')).toMatchObject({
      kind: 'remember',
      type: 'fact',
      key: 'note.the_operator_likes_short_posts',
    });
    expect(parseCommand('/forget editor')).toEqual({ kind: 'forget', target: 'editor' });
    expect(parseCommand('/approve')).toEqual({ kind: 'approve', target: null });
    expect(parseCommand('/cancel 3f0c')).toEqual({ kind: 'cancel', target: '3f0c' });
    expect(parseCommand('/status')).toEqual({ kind: 'status' });
    expect(parseCommand('/sync')).toEqual({ kind: 'sync' });
    expect(parseCommand('/task writer')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('/nope')).toMatchObject({ kind: 'invalid' });
    expect(parseCommand('Write a post about tides')).toEqual({ kind: 'delegate', request: 'Write a post about tides' });
  });
});
