/** Counts tokens the way OpenAI's current models do (o200k_base), synchronously once loaded. */
export interface TokenCounter {
  readonly encoding: string;
  count(text: string): number;
  /** The longest prefix of `text` within `maxTokens` tokens (cut at a token boundary). */
  truncate(text: string, maxTokens: number): string;
}

let loading: Promise<TokenCounter> | null = null;

/**
 * The tokenizer, loaded on first use: its tables take about half a second to load, which a
 * process that never counts tokens should not pay at start. Later calls answer the same one.
 */
export function loadTokenCounter(): Promise<TokenCounter> {
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((encoding) => ({
    encoding: 'o200k_base',
    count: (text: string) => (text ? encoding.countTokens(text) : 0),
    truncate(text: string, maxTokens: number) {
      if (maxTokens <= 0) return '';
      const within = encoding.isWithinTokenLimit(text, maxTokens);
      if (within !== false) return text;
      return encoding.decode(encoding.encode(text).slice(0, maxTokens));
    },
  }));
  return loading;
}

/**
 * Tokens a chat message costs beyond its content (role and separators), as OpenAI counts them
 * for chat completions.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;
