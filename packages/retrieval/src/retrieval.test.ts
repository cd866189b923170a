import { describe, expect, it } from 'vitest';
import { packGreedy, packPrefix } from './budget';
import { EMBEDDING_DIMENSIONS, FeatureHashingEmbedder, isZeroVector } from './embedder';
import { DEFAULT_SCORING, rankCandidates, recencyOf, retentionScore } from './scoring';
import { extractiveSummary } from './summary';
import { contentToText, stem } from './text';
import { loadTokenCounter } from './tokens';
import { cosineSimilarity, dot, exactTopK } from './vector';

describe('the local feature-hashing embedder', () => {
  const embedder = new FeatureHashingEmbedder();

  it('gives the same unit vector of 1536 dimensions for the same text, every time', () => {
    const a = embedder.embedSync('The operator drinks espresso every morning');
    const b = new FeatureHashingEmbedder().embedSync('The operator drinks espresso every morning');
    expect(a.length).toBe(EMBEDDING_DIMENSIONS);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(dot(a, a)).toBeCloseTo(1, 5);
  });

  it('puts texts sharing words, inflections or misspellings closer than unrelated ones', () => {
    const doc = embedder.embedSync('Deployments happen on Tuesdays after the standup meeting');
    const inflected = embedder.embedSync('when do we deploy? on tuesday?');
    const misspelt = embedder.embedSync('deploymnets tusedays');
    const unrelated = embedder.embedSync('Green tea in the afternoon with biscuits');
    expect(cosineSimilarity(doc, inflected)).toBeGreaterThan(cosineSimilarity(doc, unrelated) + 0.1);
    expect(cosineSimilarity(doc, misspelt)).toBeGreaterThan(cosineSimilarity(doc, unrelated) + 0.1);
  });

  it('ignores case and accents, and embeds a text without words as the zero vector', () => {
    expect(Array.from(embedder.embedSync('Café RÉSUMÉ'))).toEqual(Array.from(embedder.embedSync('cafe resume')));
    expect(isZeroVector(embedder.embedSync(' ... !! '))).toBe(true);
    expect(isZeroVector(embedder.embedSync('the and of'))).toBe(true);
  });

  it('names its model after everything that shapes its vectors', () => {
    expect(embedder.model).toBe('local/feature-hash-v1-d1536-n35-w1_0.5_0.25');
    expect(new FeatureHashingEmbedder({ ngramRange: [2, 4] }).model).not.toBe(embedder.model);
  });
});

describe('exact nearest neighbours', () => {
  it('returns the k most similar vectors, best first', () => {
    const e = new FeatureHashingEmbedder();
    const texts = ['red apples', 'green apples', 'blue sky', 'apple pie recipe', 'stormy sky'];
    const vectors = texts.map((t) => e.embedSync(t));
    const top = exactTopK(e.embedSync('apples'), vectors, 3);
    expect(top.map((t) => texts[t.index])).toEqual(['red apples', 'green apples', 'apple pie recipe']);
    expect(top[0]!.similarity).toBeGreaterThanOrEqual(top[1]!.similarity);
    expect(exactTopK(vectors[0]!, vectors, 10)).toHaveLength(5);
  });
});

describe('scoring', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const base = { importance: 0.5, accessCount: 0, lastUsedAt: now };

  it('combines relevance, importance, recency and frequency by the configured weights, with a breakdown', () => {
    const [best, second] = rankCandidates(
      [
        { ...base, textRank: 0.05, vectorSimilarity: 0.4 },
        { ...base, textRank: 0.1, vectorSimilarity: 0.8, importance: 1 },
      ],
      DEFAULT_SCORING,
      now,
    );
    expect(best!.score).toEqual({
      total: 0.88,
      relevance: 0.9,
      text: 1,
      vector: 0.8,
      importance: 1,
      recency: 1,
      frequency: 0,
    });
    expect(second!.score.text).toBe(0.5);
    expect(second!.score.relevance).toBeCloseTo(0.45, 6);
  });

  it('ranks on the one signal a candidate has (not embedded yet, or no word in common)', () => {
    const ranked = rankCandidates(
      [
        { ...base, textRank: 0.2, vectorSimilarity: null },
        { ...base, textRank: null, vectorSimilarity: 0.3 },
      ],
      DEFAULT_SCORING,
      now,
    );
    expect(ranked.map((r) => r.score.relevance)).toEqual([1, 0.3]);
  });

  it('halves recency every half-life and saturates frequency', () => {
    expect(recencyOf(new Date(now.getTime() - 30 * 86_400_000), now, 30)).toBeCloseTo(0.5, 6);
    const [heavy] = rankCandidates(
      [{ ...base, textRank: 1, vectorSimilarity: null, accessCount: 500 }],
      DEFAULT_SCORING,
      now,
    );
    expect(heavy!.score.frequency).toBe(1);
  });

  it('retains important, recent, used memories over the rest', () => {
    const old = new Date(now.getTime() - 365 * 86_400_000);
    expect(retentionScore({ importance: 0.9, accessCount: 10, lastUsedAt: now }, DEFAULT_SCORING, now)).toBeGreaterThan(
      retentionScore({ importance: 0.2, accessCount: 0, lastUsedAt: old }, DEFAULT_SCORING, now),
    );
  });
});

describe('token budgets', () => {
  const items = [5, 50, 10, 20].map((tokens, i) => ({ item: `i${i}`, tokens }));

  it('greedy packing skips what does not fit and keeps trying smaller items', () => {
    const packed = packGreedy(items, 40);
    expect(packed.kept.map((k) => k.item)).toEqual(['i0', 'i2', 'i3']);
    expect(packed.left.map((k) => k.item)).toEqual(['i1']);
    expect(packed.used).toBe(35);
  });

  it('prefix packing stops at the first item that does not fit (no gaps)', () => {
    const packed = packPrefix(items, 40);
    expect(packed.kept.map((k) => k.item)).toEqual(['i0']);
    expect(packed.left.map((k) => k.item)).toEqual(['i1', 'i2', 'i3']);
  });

  it('counts tokens with the o200k_base tokenizer and cuts text at a token boundary', async () => {
    const counter = await loadTokenCounter();
    expect(counter.encoding).toBe('o200k_base');
    expect(counter.count('Hello world')).toBe(2);
    const cut = counter.truncate('one two three four five six', 3);
    expect(counter.count(cut)).toBe(3);
    expect('one two three four five six'.startsWith(cut)).toBe(true);
    expect(await loadTokenCounter()).toBe(counter);
  });
});

describe('text', () => {
  it('reads JSON content as text, keys as words', () => {
    expect(contentToText({ favoriteColor: 'teal', tags: ['a', 'b'], n: 3 })).toBe(
      'favorite color: teal\ntags:\na\nb\nn: 3',
    );
    expect(contentToText('plain')).toBe('plain');
  });

  it('stems common English inflections', () => {
    expect(['publishing', 'published', 'publishes', 'studies', 'running'].map(stem)).toEqual([
      'publish',
      'publish',
      'publish',
      'study',
      'run',
    ]);
  });

  it('summarises a thread extractively within its token budget, in order, keeping the previous summary', async () => {
    const counter = await loadTokenCounter();
    const messages = [
      { role: 'user', content: 'We need a launch plan for the March product release. Budget is tight.' },
      { role: 'assistant', content: 'The launch plan covers the March release, the newsletter and social posts.' },
      { role: 'user', content: 'Ok. Also the weather was nice today.' },
    ];
    const summary = extractiveSummary(messages, {
      maxTokens: 40,
      count: (t) => counter.count(t),
      previous: 'Earlier: hired a designer.',
    });
    expect(summary.startsWith('Earlier: hired a designer.')).toBe(true);
    expect(summary).toContain('launch plan');
    expect(counter.count(summary)).toBeLessThanOrEqual(42);
  });
});
