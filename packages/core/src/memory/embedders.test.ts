import { dot } from '@ora/retrieval';
import { type FakeProvider, fakeEmbedding, startFakeOpenAI } from '@ora/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, OpenAIEmbedder } from './embedders';

describe('embedding providers', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('embeds through the OpenAI SDK in one request per batch, asking text-embedding-3 models for 1536 dimensions', async () => {
    const embedder = createEmbedder({
      kind: 'openai',
      model: 'text-embedding-3-small',
      baseURL: fake.baseURL,
      apiKey: 'test',
    });
    expect(embedder).toBeInstanceOf(OpenAIEmbedder);
    expect(embedder.model).toBe('openai/text-embedding-3-small');
    const [a, b] = await embedder.embed(['first text', 'second text']);
    expect(fake.otherRequests).toHaveLength(1);
    expect(fake.otherRequests[0]).toMatchObject({
      path: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', input: ['first text', 'second text'], dimensions: 1536 },
    });
    expect(a?.length).toBe(1536);
    expect(dot(a!, a!)).toBeCloseTo(1, 5);
    // The vectors are the server's, in input order.
    const expected = fakeEmbedding('second text');
    expect(Array.from(b!).slice(0, 50)).toEqual(expected.slice(0, 50).map((v) => Math.fround(v)));
  });

  it('uses the local embedder when no provider is configured', async () => {
    const embedder = createEmbedder({ kind: 'local' });
    expect(embedder.model).toMatch(/^local\/feature-hash-v1/);
    const [v] = await embedder.embed(['offline text']);
    expect(v?.length).toBe(1536);
  });
});
