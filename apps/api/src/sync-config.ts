import { DEFAULT_SYNC_SETTINGS, type SyncSettings } from '@ora/core';
import { parseStrategyMap, type StrategyByType } from '@ora/sync-core';
import { z } from 'zod';

// The sync part of the environment (env.ts spreads it into its schema and calls `syncConfig`).

export const syncEnv = {
  /** Conflict strategy per memory type when a push names none, e.g. "preference=manual,fact=merge". */
  ORA_SYNC_STRATEGIES: z
    .string()
    .transform((value, ctx): StrategyByType => {
      try {
        return parseStrategyMap(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .default({}),
  /** Mutations per push transaction. */
  ORA_SYNC_PUSH_BATCH: z.coerce.number().int().min(1).max(1000).default(DEFAULT_SYNC_SETTINGS.pushBatchSize),
  /** How long a pull waits for writes in flight below its horizon. */
  ORA_SYNC_HORIZON_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_SYNC_SETTINGS.horizonWaitMs),
};

type SyncEnv = z.output<z.ZodObject<typeof syncEnv>>;

export function syncConfig(env: SyncEnv): SyncSettings {
  return {
    strategies: env.ORA_SYNC_STRATEGIES,
    pushBatchSize: env.ORA_SYNC_PUSH_BATCH,
    horizonWaitMs: env.ORA_SYNC_HORIZON_WAIT_MS,
  };
}
