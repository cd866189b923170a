import type { ScoreBreakdown, ScoreWeights } from '@ora/contracts';

/** How hits are ranked. Weights need not sum to 1: they are normalised. */
export interface ScoringConfig {
  weights: ScoreWeights;
  /** Recency halves every this many days since a memory was last used (or written). */
  recencyHalfLifeDays: number;
  /** The access count at which the frequency part reaches 1. */
  frequencySaturation: number;
  /** Share of relevance that comes from vector similarity when both signals exist (0..1). */
  vectorShare: number;
}

export const DEFAULT_SCORING: ScoringConfig = {
  weights: { relevance: 0.7, importance: 0.15, recency: 0.1, frequency: 0.05 },
  recencyHalfLifeDays: 30,
  frequencySaturation: 50,
  vectorShare: 0.5,
};

/** What a candidate brings to scoring. */
export interface ScoringSignals {
  /** Raw full-text rank (ts_rank), or null when the text did not match or was not searched. */
  textRank: number | null;
  /** Cosine similarity to the query embedding, or null when there is none. */
  vectorSimilarity: number | null;
  importance: number;
  accessCount: number;
  /** Last access, or the last write when never accessed. */
  lastUsedAt: Date;
}

const DAY_MS = 86_400_000;

export function recencyOf(lastUsedAt: Date, now: Date, halfLifeDays: number): number {
  const ageDays = Math.max(0, now.getTime() - lastUsedAt.getTime()) / DAY_MS;
  return halfLifeDays > 0 ? 0.5 ** (ageDays / halfLifeDays) : 1;
}

export function frequencyOf(accessCount: number, saturation: number): number {
  if (saturation <= 0) return 0;
  return Math.min(1, Math.log1p(Math.max(0, accessCount)) / Math.log1p(saturation));
}

/** Weights scaled to sum to 1 (over the parts that apply: no relevance without a query). */
export function normalizedWeights(weights: ScoreWeights, withRelevance = true): ScoreWeights {
  const relevance = withRelevance ? Math.max(0, weights.relevance) : 0;
  const sum =
    relevance + Math.max(0, weights.importance) + Math.max(0, weights.recency) + Math.max(0, weights.frequency);
  if (sum === 0)
    return { relevance: withRelevance ? 1 : 0, importance: withRelevance ? 0 : 1, recency: 0, frequency: 0 };
  return {
    relevance: relevance / sum,
    importance: Math.max(0, weights.importance) / sum,
    recency: Math.max(0, weights.recency) / sum,
    frequency: Math.max(0, weights.frequency) / sum,
  };
}

/**
 * Relevance from the two signals. The text rank is taken relative to the best text rank among
 * the candidates (ts_rank has no fixed scale); cosine similarity is already in [0, 1] for these
 * embeddings. Where only one signal exists, it is the relevance on its own.
 */
export function relevanceOf(text: number | null, vector: number | null, vectorShare: number): number {
  if (text === null && vector === null) return 0;
  if (text === null) return clamp01(vector as number);
  if (vector === null) return clamp01(text);
  return (1 - vectorShare) * clamp01(text) + vectorShare * clamp01(vector);
}

/**
 * Scores the candidates of one query and ranks them, best first. A candidate with only one
 * signal (not embedded yet, or no word in common) is ranked on that one.
 */
export function rankCandidates<T extends ScoringSignals>(
  candidates: readonly T[],
  config: ScoringConfig,
  now: Date,
  options: { withRelevance?: boolean } = {},
): Array<{ candidate: T; score: ScoreBreakdown }> {
  const withRelevance = options.withRelevance ?? true;
  const weights = normalizedWeights(config.weights, withRelevance);
  let bestText = 0;
  for (const c of candidates) if (c.textRank !== null && c.textRank > bestText) bestText = c.textRank;
  const scored = candidates.map((candidate) => {
    const text = candidate.textRank !== null && bestText > 0 ? candidate.textRank / bestText : null;
    const vector = candidate.vectorSimilarity;
    const relevance = withRelevance ? relevanceOf(text, vector, config.vectorShare) : 0;
    const importance = clamp01(candidate.importance);
    const recency = recencyOf(candidate.lastUsedAt, now, config.recencyHalfLifeDays);
    const frequency = frequencyOf(candidate.accessCount, config.frequencySaturation);
    const total =
      weights.relevance * relevance +
      weights.importance * importance +
      weights.recency * recency +
      weights.frequency * frequency;
    return {
      candidate,
      score: {
        total: round(total),
        relevance: round(relevance),
        text: text === null ? null : round(text),
        vector: vector === null ? null : round(vector),
        importance: round(importance),
        recency: round(recency),
        frequency: round(frequency),
      },
    };
  });
  return scored.sort((a, b) => b.score.total - a.score.total);
}

/**
 * The score of a memory with no query (importance, recency, frequency): what eviction ranks by,
 * lowest first out.
 */
export function retentionScore(
  signals: Omit<ScoringSignals, 'textRank' | 'vectorSimilarity'>,
  config: ScoringConfig,
  now: Date,
): number {
  const weights = normalizedWeights(config.weights, false);
  return (
    weights.importance * clamp01(signals.importance) +
    weights.recency * recencyOf(signals.lastUsedAt, now, config.recencyHalfLifeDays) +
    weights.frequency * frequencyOf(signals.accessCount, config.frequencySaturation)
  );
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
