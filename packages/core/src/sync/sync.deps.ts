import type { StrategyByType } from '@ora/sync-core';
import type { MemoryDeps } from '../memory/memory.deps';

/** How sync behaves in this process; parsed from the environment by the app (ORA_SYNC_*). */
export interface SyncSettings {
  /** The conflict strategy per memory type when a push names none (others: last_write_wins). */
  strategies: StrategyByType;
  /**
   * Mutations applied per transaction: a large push holds its locks for one batch at a time (1000:
   * about a tenth of a second; the fixed cost of a transaction spread over enough rows).
   */
  pushBatchSize: number;
  /**
   * How long a pull waits for the transactions that may still commit a version below its horizon
   * (normally a few milliseconds); past it, the pull answers no new changes this time.
   */
  horizonWaitMs: number;
}

export const DEFAULT_SYNC_SETTINGS: SyncSettings = {
  strategies: {},
  pushBatchSize: 1000,
  horizonWaitMs: 2_000,
};

/** Sync works on memories and conversations: the memory deps plus its own settings. */
export type SyncDeps = MemoryDeps & { sync: SyncSettings };
