/**
 * @ora/retrieval: pure retrieval shared by the server's memory and the desktop's local search.
 * The local feature-hashing embedder, scoring and ranking of hits, token counting and budget
 * packing. No I/O: it imports only @ora/contracts, zod and the tokenizer's tables.
 */

export type { BudgetItem, PackResult } from './budget';
export { packGreedy, packPrefix } from './budget';
export type { Embedder, FeatureHashingOptions } from './embedder';
export { EMBEDDING_DIMENSIONS, FeatureHashingEmbedder, hashString, isZeroVector, normalize } from './embedder';
export type { ScoringConfig, ScoringSignals } from './scoring';
export {
  DEFAULT_SCORING,
  frequencyOf,
  normalizedWeights,
  rankCandidates,
  recencyOf,
  relevanceOf,
  retentionScore,
} from './scoring';
export type { SummaryMessage, SummaryOptions } from './summary';
export { extractiveSummary } from './summary';
export { contentToText, humanizeKey, normalizeText, STOPWORDS, stem, words } from './text';
export type { TokenCounter } from './tokens';
export { loadTokenCounter, MESSAGE_OVERHEAD_TOKENS } from './tokens';
export { cosineSimilarity, dot, exactTopK, toVectorLiteral } from './vector';
