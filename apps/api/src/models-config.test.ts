import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env';

describe('model configuration', () => {
  it('takes the default and images models, prices over the built-in table, and the call policy', () => {
    const config = loadConfig({
      ORA_DEFAULT_MODEL: 'anthropic/claude-haiku-4-5',
      ORA_IMAGE_MODEL: 'openai/dall-e-3',
      ORA_MODEL_PRICES: '{"openai/llama3.1":{"input":0,"output":0},"openai/gpt-4o":{"input":2,"output":8}}',
      ORA_PROVIDER_TIMEOUT_MS: '30000',
    });
    expect(config.models).toEqual({
      defaultModel: 'anthropic/claude-haiku-4-5',
      imageModel: 'openai/dall-e-3',
      prices: { 'openai/llama3.1': { input: 0, output: 0 }, 'openai/gpt-4o': { input: 2, output: 8 } },
      timeoutMs: 30_000,
      maxRetries: 2,
      maxRetryAfterMs: 60_000,
    });
  });

  it('refuses a model outside provider/model and prices that are not JSON, naming the variable', () => {
    for (const [name, value] of [
      ['ORA_DEFAULT_MODEL', 'gpt-4o'],
      ['ORA_MODEL_PRICES', '{oops'],
      ['ORA_MODEL_PRICES', '{"openai/x":{"input":-1,"output":1}}'],
    ] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });
});
