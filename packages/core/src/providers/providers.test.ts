import { type FakeProvider, startFakeAnthropic, startFakeOpenAI } from '@ora/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicProvider } from './anthropic.provider';
import { retryAfterMs } from './errors';
import { OpenAIProvider } from './openai.provider';
import { costOf, defaultPrices, priceOf } from './prices';
import { ProviderRegistry } from './registry';
import { callModels, ModelCallError } from './router';
import type { ChatRequest } from './types';

let openai: FakeProvider;
let anthropic: FakeProvider;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
});
afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close()]);
});
beforeEach(() => {
  openai.reset();
  anthropic.reset();
});

const tool = {
  name: 'posts_write',
  description: 'Save a post',
  parameters: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
};

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'test-model',
    system: 'You are a test.',
    messages: [{ role: 'user', content: 'Write a post' }],
    tools: [tool],
    maxOutputTokens: 500,
    timeoutMs: 5_000,
    signal: new AbortController().signal,
    ...overrides,
  };
}

const registry = (extra = {}) =>
  new ProviderRegistry({
    openaiApiKey: 'sk-test',
    openaiBaseUrl: openai.baseURL,
    anthropicApiKey: 'sk-ant-test',
    anthropicBaseUrl: anthropic.baseURL,
    maxRetryAfterMs: 5_000,
    ...extra,
  });

describe.each([false, true])('the OpenAI provider through the official SDK (stream: %s)', (stream) => {
  it('returns text, tool calls and token usage from chat completions', async () => {
    const provider = new OpenAIProvider({ apiKey: 'sk-test', baseURL: openai.baseURL });
    openai.enqueue(
      { toolCalls: [{ name: 'posts_write', arguments: { title: 'Hello' } }], usage: { input: 100, output: 20 } },
      { text: 'All done.', usage: { input: 150, output: 5 } },
    );
    const first = await provider.chat(request({ stream }));
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([{ id: expect.any(String), name: 'posts_write', arguments: '{"title":"Hello"}' }]);
    expect(first.usage).toEqual({ inputTokens: 100, outputTokens: 20 });
    const call = first.toolCalls[0]!;
    const second = await provider.chat(
      request({
        stream,
        messages: [
          { role: 'user', content: 'Write a post' },
          { role: 'assistant', content: null, toolCalls: [call] },
          { role: 'tool', toolCallId: call.id, name: call.name, content: '{"postId":"p1"}' },
        ],
      }),
    );
    expect(second).toMatchObject({ text: 'All done.', toolCalls: [], finishReason: 'stop' });
    expect(openai.requests[1]?.lastToolResult).toEqual({ postId: 'p1' });
    expect(openai.requests[1]?.tools).toEqual(['posts_write']);
    expect(openai.requests[1]?.stream).toBe(stream);
  });
});

describe.each([false, true])('the Anthropic provider through the official SDK (stream: %s)', (stream) => {
  it('returns text, tool_use blocks and usage, and sends tool results back as one user turn', async () => {
    const provider = new AnthropicProvider({ apiKey: 'sk-ant', baseURL: anthropic.baseURL });
    anthropic.enqueue(
      {
        text: 'Saving two drafts.',
        toolCalls: [
          { name: 'posts_write', arguments: { title: 'A' } },
          { name: 'posts_write', arguments: { title: 'B' } },
        ],
        usage: { input: 80, output: 30 },
      },
      { text: 'Saved both.' },
    );
    const first = await provider.chat(request({ stream }));
    expect(first.text).toBe('Saving two drafts.');
    expect(first.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([{ title: 'A' }, { title: 'B' }]);
    expect(first.usage).toEqual({ inputTokens: 80, outputTokens: 30 });
    const [a, b] = first.toolCalls as [(typeof first.toolCalls)[0], (typeof first.toolCalls)[0]];
    const second = await provider.chat(
      request({
        stream,
        messages: [
          { role: 'user', content: 'Write' },
          { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
          { role: 'tool', toolCallId: a.id, name: a.name, content: '"ok A"' },
          { role: 'tool', toolCallId: b.id, name: b.name, content: '"ok B"', isError: true },
        ],
      }),
    );
    expect(second.text).toBe('Saved both.');
    const sent = anthropic.requests[1]?.body.messages;
    expect(sent).toHaveLength(3);
    expect(sent[2].content.map((c: { type: string }) => c.type)).toEqual(['tool_result', 'tool_result']);
    expect(sent[2].content[1].is_error).toBe(true);
  });
});

describe('images and embeddings', () => {
  it('generates an image as bytes and embeds texts', async () => {
    const provider = new OpenAIProvider({ apiKey: 'sk-test', baseURL: openai.baseURL });
    const signal = new AbortController().signal;
    const image = await provider.generateImage({
      model: 'gpt-image-1',
      prompt: 'a lighthouse',
      timeoutMs: 5000,
      signal,
    });
    expect(image.data.subarray(1, 4).toString()).toBe('PNG');
    const embedded = await provider.embed({
      model: 'text-embedding-3-small',
      input: ['a', 'b c'],
      timeoutMs: 5000,
      signal,
    });
    expect(embedded.vectors).toHaveLength(2);
    expect(embedded.vectors[0]).toHaveLength(1536);
  });
});

describe('the model router', () => {
  const deadline = () => Date.now() + 30_000;
  const call = (models: string[], signal = new AbortController().signal, extra = {}) =>
    callModels(
      registry(extra),
      models,
      { system: 's', messages: [{ role: 'user', content: 'hi' }], tools: [], maxOutputTokens: 100 },
      { step: 0, signal, deadline: deadline() },
    );

  it('waits for retry-after on a 429 and asks the same model again, recording both attempts', async () => {
    openai.enqueue({ error: 'rate_limit', retryAfterMs: 300 }, { text: 'hello', usage: { input: 1000, output: 1000 } });
    const started = Date.now();
    const result = await call(['openai/gpt-4o-mini']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(result.response.text).toBe('hello');
    expect(result.attempts.map((a) => [a.status, a.errorKind, a.retryAfterMs])).toEqual([
      ['error', 'rate_limited', 300],
      ['ok', undefined, undefined],
    ]);
    expect(result.cost).toBeCloseTo(0.00075, 6);
  });

  it('retries an overloaded Anthropic (529) after its retry-after', async () => {
    anthropic.enqueue({ error: 'overloaded', retryAfterSeconds: 0 }, { text: 'fine now' });
    const result = await call(['anthropic/claude-sonnet-4-6']);
    expect(result.attempts.map((a) => a.errorKind ?? 'ok')).toEqual(['overloaded', 'ok']);
    expect(result.attempts[0]?.httpStatus).toBe(529);
  });

  it('never retries a spend-limit answer and moves to another provider', async () => {
    openai.enqueue({ error: 'quota' });
    anthropic.enqueue({ text: 'from anthropic' });
    const result = await call(['openai/gpt-4o', 'openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5']);
    expect(openai.requests).toHaveLength(1);
    expect(result.modelRef).toBe('anthropic/claude-haiku-4-5');
    expect(result.attempts.map((a) => [a.model, a.status, a.errorKind])).toEqual([
      ['openai/gpt-4o', 'error', 'quota'],
      ['openai/gpt-4o-mini', 'skipped', 'quota'],
      ['anthropic/claude-haiku-4-5', 'ok', undefined],
    ]);
  });

  it('fails without retry when the only provider reports its spend limit (Anthropic too)', async () => {
    anthropic.enqueue({ error: 'quota' });
    const error = await call(['anthropic/claude-sonnet-4-6']).catch((e) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error.retryable).toBe(false);
    expect(anthropic.requests).toHaveLength(1);
    expect(error.message).toMatch(/spend limit/);
  });

  it('falls back to the next model on a 5xx', async () => {
    openai.enqueue({ error: 'server', status: 502 }, { text: 'fallback answer' });
    const result = await call(['openai/gpt-4o', 'openai/gpt-4o-mini']);
    expect(result.modelRef).toBe('openai/gpt-4o-mini');
    expect(result.attempts.map((a) => [a.model, a.httpStatus ?? null, a.fallback])).toEqual([
      ['openai/gpt-4o', 502, false],
      ['openai/gpt-4o-mini', null, true],
    ]);
  });

  it('times a slow provider out and tries the next model', async () => {
    openai.enqueue({ text: 'too late', delayMs: 2_000 }, { text: 'quick' });
    const result = await call(['openai/slow', 'openai/quick'], undefined, { timeoutMs: 300 });
    expect(result.attempts[0]?.errorKind).toBe('timeout');
    expect(result.response.text).toBe('quick');
  });

  it('stops at once when aborted during a call that never answers', async () => {
    openai.enqueue({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancel')), 100);
    const started = Date.now();
    const error = await call(['openai/gpt-4o'], controller.signal).catch((e) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect.poll(() => openai.inFlight).toBe(0);
  });

  it('names the settings to set when no provider is configured', async () => {
    const error = await callModels(
      new ProviderRegistry({}),
      ['openai/gpt-4o-mini'],
      { system: '', messages: [{ role: 'user', content: 'x' }], tools: [], maxOutputTokens: 10 },
      { step: 0, signal: new AbortController().signal, deadline: deadline() },
    ).catch((e) => e);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/OPENAI_API_KEY or OPENAI_BASE_URL/);
  });
});

describe('prices and retry-after', () => {
  it('prices a dated snapshot by its family and lets config override', () => {
    expect(priceOf(defaultPrices, 'anthropic/claude-sonnet-4-20250514')).toEqual({ input: 3, output: 15 });
    expect(priceOf(defaultPrices, 'openai/gpt-4o-mini-2024-07-18')).toEqual({ input: 0.15, output: 0.6 });
    expect(priceOf(defaultPrices, 'openai/unknown')).toBeNull();
    const table = { ...defaultPrices, 'openai/gpt-4o': { input: 1, output: 1 } };
    expect(costOf(priceOf(table, 'openai/gpt-4o'), { inputTokens: 500_000, outputTokens: 500_000 })).toBe(1);
  });

  it('reads retry-after-ms, retry-after seconds and dates', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    const at = Date.now();
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(at + 10_000).toUTCString() }), at)).toBeGreaterThan(8000);
    expect(retryAfterMs(new Headers({}))).toBeNull();
  });
});
