/**
 * What models cost, in US dollars per million tokens (and per image for image models), as
 * published by the providers. Data, not code: `ORA_MODEL_PRICES` overrides or adds entries
 * (same shape, JSON), and a model matches its longest listed prefix, so dated snapshots
 * (`anthropic/claude-sonnet-4-20250514`) take their family's price.
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens. */
  input: number;
  /** USD per million output (completion) tokens. */
  output: number;
  /** USD per generated image (image models). */
  perImage?: number;
}

export type PriceTable = Record<string, ModelPrice>;

export const defaultPrices: PriceTable = {
  'openai/gpt-5': { input: 1.25, output: 10 },
  'openai/gpt-5-mini': { input: 0.25, output: 2 },
  'openai/gpt-5-nano': { input: 0.05, output: 0.4 },
  'openai/gpt-4.1': { input: 2, output: 8 },
  'openai/gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'openai/gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'openai/gpt-4o': { input: 2.5, output: 10 },
  'openai/gpt-4o-mini': { input: 0.15, output: 0.6 },
  'openai/o3': { input: 2, output: 8 },
  'openai/o4-mini': { input: 1.1, output: 4.4 },
  'openai/text-embedding-3-small': { input: 0.02, output: 0 },
  'openai/text-embedding-3-large': { input: 0.13, output: 0 },
  'openai/gpt-image-1': { input: 5, output: 40, perImage: 0.042 },
  'openai/dall-e-3': { input: 0, output: 0, perImage: 0.04 },
  'anthropic/claude-opus-4': { input: 15, output: 75 },
  'anthropic/claude-opus-4-5': { input: 5, output: 25 },
  'anthropic/claude-sonnet-4': { input: 3, output: 15 },
  'anthropic/claude-haiku-4-5': { input: 1, output: 5 },
  'anthropic/claude-3-7-sonnet': { input: 3, output: 15 },
  'anthropic/claude-3-5-sonnet': { input: 3, output: 15 },
  'anthropic/claude-3-5-haiku': { input: 0.8, output: 4 },
  'anthropic/claude-3-haiku': { input: 0.25, output: 1.25 },
};

/** The price of a `provider/model`: an exact entry, else the longest prefix listed, else null (unpriced). */
export function priceOf(table: PriceTable, modelRef: string): ModelPrice | null {
  const exact = table[modelRef];
  if (exact) return exact;
  let best: string | null = null;
  for (const key of Object.keys(table)) {
    if (modelRef.startsWith(key) && (best === null || key.length > best.length)) best = key;
  }
  return best ? (table[best] ?? null) : null;
}

/** USD for a call's tokens; 0 for an unpriced model (the attempt records that it was unpriced). */
export function costOf(
  price: ModelPrice | null,
  usage: { inputTokens: number; outputTokens: number },
  images = 0,
): number {
  if (!price) return 0;
  const cost = (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  return Math.round((cost + images * (price.perImage ?? 0)) * 1e6) / 1e6;
}
