import type { PriceTable } from '@ora/core';
import { z } from 'zod';

// The model part of the environment (env.ts spreads it into its schema and calls `modelsConfig`):
// which model agents use by default, the images model, prices, and the provider call policy.

const modelName = z
  .string()
  .regex(
    /^(openai|anthropic)\/[\w.:/-]+$/,
    'provider/model with provider openai or anthropic, e.g. openai/gpt-4o-mini',
  );

const Price = z.object({
  input: z.number().min(0).max(100_000),
  output: z.number().min(0).max(100_000),
  perImage: z.number().min(0).max(1000).optional(),
});

const prices = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"openai/my-model":{"input":1,"output":2}}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(modelName, Price));

export const modelsEnv = {
  ORA_DEFAULT_MODEL: modelName.optional(),
  ORA_IMAGE_MODEL: modelName.optional(),
  ORA_MODEL_PRICES: prices.optional(),
  ORA_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
  ORA_PROVIDER_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  ORA_PROVIDER_MAX_RETRY_AFTER_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
};

export interface ModelsConfig {
  /** `provider/model` for agents without one; absent: per the provider configured. */
  defaultModel: string | undefined;
  imageModel: string | undefined;
  /** USD per million tokens (and per image), over the built-in table. */
  prices: PriceTable;
  timeoutMs: number;
  maxRetries: number;
  maxRetryAfterMs: number;
}

export function modelsConfig(env: z.output<z.ZodObject<typeof modelsEnv>>): ModelsConfig {
  return {
    defaultModel: env.ORA_DEFAULT_MODEL,
    imageModel: env.ORA_IMAGE_MODEL,
    prices: (env.ORA_MODEL_PRICES ?? {}) as PriceTable,
    timeoutMs: env.ORA_PROVIDER_TIMEOUT_MS,
    maxRetries: env.ORA_PROVIDER_MAX_RETRIES,
    maxRetryAfterMs: env.ORA_PROVIDER_MAX_RETRY_AFTER_MS,
  };
}
