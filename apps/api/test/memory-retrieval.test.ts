import { embedMemories, searchMemoryRows, systemActor, upsertMemory } from '@ora/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrievalSet } from './fixtures/memory-retrieval';
import { startTestServer, type TestServer } from './harness';

// Retrieval quality on a labelled set made for the project (fixtures/memory-retrieval.ts), on
// PGlite, where pgvector makes all three modes available over the same rows.
describe('memory retrieval quality (embedded, PGlite with pgvector)', () => {
  let server: TestServer;
  const keyById = new Map<string, string>();
  const { memories, queries } = retrievalSet();

  beforeAll(async () => {
    server = await startTestServer('embedded');
    // Written through core (as the agent runtime does); embedded by the job's own function.
    const deps = { ...server.system.memory.deps, queue: null };
    for (const memory of memories) {
      const { memory: stored } = await upsertMemory(deps, systemActor, {
        type: memory.type,
        key: memory.key,
        content: memory.content,
      });
      keyById.set(stored.id, memory.key);
    }
    const ids = [...keyById.keys()];
    for (let i = 0; i < ids.length; i += 100) await embedMemories(deps, ids.slice(i, i + 100));
  });
  afterAll(async () => {
    await server?.close();
  });

  async function recallAt5(mode: 'hybrid' | 'fulltext' | 'vector'): Promise<{ recall: number; misses: string[] }> {
    let sum = 0;
    const misses: string[] = [];
    for (const { query, expected } of queries) {
      const result = await searchMemoryRows(server.system.memory.deps, systemActor, {
        query,
        limit: 5,
        mode,
        recordAccess: false,
      });
      expect(result.mode).toBe(mode);
      const found = new Set(result.hits.map((h) => keyById.get(h.row.id)));
      const share = expected.filter((key) => found.has(key)).length / expected.length;
      sum += share;
      if (share < 1) misses.push(query);
    }
    return { recall: sum / queries.length, misses };
  }

  it('finds the labelled memories: recall@5 of hybrid search is at least that of full-text or vector search alone', async () => {
    expect(memories.length).toBeGreaterThanOrEqual(200);
    expect(queries.length).toBeGreaterThanOrEqual(40);
    const hybrid = await recallAt5('hybrid');
    const fulltext = await recallAt5('fulltext');
    const vector = await recallAt5('vector');
    const line = (name: string, r: { recall: number; misses: string[] }) =>
      `${name.padEnd(9)} recall@5 ${r.recall.toFixed(3)}  missed: ${r.misses.map((m) => JSON.stringify(m)).join(', ') || 'none'}`;
    process.stdout.write(
      `\nretrieval quality, ${memories.length} memories, ${queries.length} queries:\n` +
        `${[line('hybrid', hybrid), line('full-text', fulltext), line('vector', vector)].join('\n')}\n`,
    );
    expect(hybrid.recall).toBeGreaterThanOrEqual(fulltext.recall);
    expect(hybrid.recall).toBeGreaterThanOrEqual(vector.recall);
    expect(hybrid.recall).toBeGreaterThanOrEqual(0.9);
  });
});
