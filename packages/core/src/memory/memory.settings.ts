import type { MemoryType } from '@ora/contracts';
import { DEFAULT_SCORING, type ScoringConfig } from '@ora/retrieval';

/** How memory behaves in this process; parsed from the environment by the app. */
export interface MemorySettings {
  scoring: ScoringConfig;
  /** AES-256-GCM key (32 bytes) for the types in `encryptedTypes`; null: nothing is encrypted. */
  encryptionKey: Buffer | null;
  encryptedTypes: ReadonlySet<MemoryType>;
  /** Memories of these types never leave the server through sync. */
  noSyncTypes: ReadonlySet<MemoryType>;
  /** Live memories per agent (ORA's own count as one agent); beyond it the lowest-scored are archived. */
  maxPerAgent: number;
  /** How often the per-agent limit is checked by maintenance. */
  limitCheckIntervalMs: number;
  /** A row whose embedding failed is tried again after this long. */
  embedRetryAfterMs: number;
  /** The sweep leaves rows written this recently to the job their write enqueued. */
  embedSweepGraceMs: number;
  /** Rows the sweep hands to the embedding job per pass. */
  embedSweepBatch: number;
  /**
   * Least HNSW candidate list of vector search (pgvector's ef_search); larger indexes get more
   * (`efSearchFor`), and never fewer than the candidates asked.
   */
  efSearch: number;
  /** Unsummarised tokens after which a conversation is summarised in the background; 0: never. */
  conversationSummaryTokens: number;
}

export const DEFAULT_MEMORY_SETTINGS: MemorySettings = {
  scoring: DEFAULT_SCORING,
  encryptionKey: null,
  encryptedTypes: new Set(),
  noSyncTypes: new Set(),
  maxPerAgent: 10_000,
  limitCheckIntervalMs: 30_000,
  embedRetryAfterMs: 5 * 60_000,
  embedSweepGraceMs: 10_000,
  embedSweepBatch: 100,
  efSearch: 40,
  conversationSummaryTokens: 8_000,
};
