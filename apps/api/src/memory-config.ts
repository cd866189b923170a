import { MemoryType } from '@ora/contracts';
import { DEFAULT_MEMORY_SETTINGS, type EmbeddingProviderSettings, type MemorySettings } from '@ora/core';
import { z } from 'zod';

// The memory part of the environment (env.ts spreads it into its schema and calls `memoryConfig`).

const types = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  )
  .pipe(z.array(MemoryType));
const weight = z.coerce.number().min(0).max(100);

export const memoryEnv = {
  ORA_EMBEDDINGS: z.enum(['auto', 'local', 'openai']).default('auto'),
  ORA_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
  ORA_MEMORY_ENCRYPTION_KEY: z
    .string()
    .refine(
      (v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32,
      'must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)',
    )
    .optional(),
  ORA_MEMORY_ENCRYPTED_TYPES: types.default([]),
  ORA_MEMORY_NOSYNC_TYPES: types.default([]),
  ORA_MEMORY_MAX_PER_AGENT: z.coerce.number().int().min(1).max(100_000_000).default(10_000),
  ORA_MEMORY_WEIGHT_RELEVANCE: weight.default(DEFAULT_MEMORY_SETTINGS.scoring.weights.relevance),
  ORA_MEMORY_WEIGHT_IMPORTANCE: weight.default(DEFAULT_MEMORY_SETTINGS.scoring.weights.importance),
  ORA_MEMORY_WEIGHT_RECENCY: weight.default(DEFAULT_MEMORY_SETTINGS.scoring.weights.recency),
  ORA_MEMORY_WEIGHT_FREQUENCY: weight.default(DEFAULT_MEMORY_SETTINGS.scoring.weights.frequency),
  ORA_MEMORY_RECENCY_HALF_LIFE_DAYS: z.coerce.number().min(0).max(36_500).default(30),
  ORA_MEMORY_VECTOR_SHARE: z.coerce.number().min(0).max(1).default(DEFAULT_MEMORY_SETTINGS.scoring.vectorShare),
  ORA_MEMORY_EF_SEARCH: z.coerce.number().int().min(10).max(1000).default(DEFAULT_MEMORY_SETTINGS.efSearch),
  ORA_CONVERSATION_SUMMARY_TOKENS: z.coerce.number().int().min(0).max(10_000_000).default(8_000),
};

type MemoryEnv = z.output<z.ZodObject<typeof memoryEnv>> & {
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
};

/** Settings that only make sense together; reported on the variable to change. */
export function checkMemoryEnv(env: MemoryEnv, ctx: z.RefinementCtx): void {
  if (env.ORA_MEMORY_ENCRYPTED_TYPES.length > 0 && !env.ORA_MEMORY_ENCRYPTION_KEY) {
    ctx.addIssue({
      code: 'custom',
      path: ['ORA_MEMORY_ENCRYPTION_KEY'],
      message: `required when ORA_MEMORY_ENCRYPTED_TYPES is set (${env.ORA_MEMORY_ENCRYPTED_TYPES.join(', ')})`,
    });
  }
  if (env.ORA_EMBEDDINGS === 'openai' && !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['ORA_EMBEDDINGS'],
      message: '"openai" needs OPENAI_API_KEY or OPENAI_BASE_URL',
    });
  }
}

export interface MemoryConfig {
  /** OpenAI-compatible embeddings when configured (auto: OPENAI_API_KEY or OPENAI_BASE_URL set), else local. */
  embeddings: EmbeddingProviderSettings;
  settings: MemorySettings;
}

export function memoryConfig(env: MemoryEnv): MemoryConfig {
  const openai =
    env.ORA_EMBEDDINGS === 'openai' || (env.ORA_EMBEDDINGS === 'auto' && (env.OPENAI_API_KEY || env.OPENAI_BASE_URL));
  return {
    embeddings: openai
      ? { kind: 'openai', model: env.ORA_EMBEDDING_MODEL, apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL }
      : { kind: 'local' },
    settings: {
      ...DEFAULT_MEMORY_SETTINGS,
      scoring: {
        weights: {
          relevance: env.ORA_MEMORY_WEIGHT_RELEVANCE,
          importance: env.ORA_MEMORY_WEIGHT_IMPORTANCE,
          recency: env.ORA_MEMORY_WEIGHT_RECENCY,
          frequency: env.ORA_MEMORY_WEIGHT_FREQUENCY,
        },
        recencyHalfLifeDays: env.ORA_MEMORY_RECENCY_HALF_LIFE_DAYS,
        frequencySaturation: DEFAULT_MEMORY_SETTINGS.scoring.frequencySaturation,
        vectorShare: env.ORA_MEMORY_VECTOR_SHARE,
      },
      encryptionKey: env.ORA_MEMORY_ENCRYPTION_KEY ? Buffer.from(env.ORA_MEMORY_ENCRYPTION_KEY, 'base64') : null,
      encryptedTypes: new Set(env.ORA_MEMORY_ENCRYPTED_TYPES),
      noSyncTypes: new Set(env.ORA_MEMORY_NOSYNC_TYPES),
      maxPerAgent: env.ORA_MEMORY_MAX_PER_AGENT,
      efSearch: env.ORA_MEMORY_EF_SEARCH,
      conversationSummaryTokens: env.ORA_CONVERSATION_SUMMARY_TOKENS,
    },
  };
}
