import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Local HTTP servers that speak the OpenAI (chat completions, embeddings, images) and Anthropic
 * (messages) wire formats, so the real SDKs can be tested without the internet. Each answer is
 * scripted per test: a queue of steps taken in order, then a handler function, then a default.
 */

export interface FakeToolCall {
  name: string;
  /** An object (sent as JSON) or a raw string (to send malformed arguments). */
  arguments: unknown;
  id?: string;
}

interface StepTiming {
  /** Wait this long before answering (a slow provider); a client that gives up ends the wait. */
  delayMs?: number;
  /** Token usage to report instead of the estimate from the text sizes. */
  usage?: { input: number; output: number };
}

/** One scripted answer. */
export type FakeStep =
  | (StepTiming & { text: string })
  | (StepTiming & { toolCalls: FakeToolCall[]; text?: string })
  | (StepTiming & { error: 'rate_limit'; retryAfterSeconds?: number; retryAfterMs?: number })
  | (StepTiming & { error: 'overloaded'; retryAfterSeconds?: number })
  | (StepTiming & { error: 'server'; status?: number })
  | (StepTiming & { error: 'quota' })
  | (StepTiming & { error: 'auth' })
  | (StepTiming & { error: 'bad_request'; message?: string })
  /** Never answers: the request hangs until the client aborts it. */
  | { hang: true };

export interface FakeMessage {
  role: string;
  /** The message's text, tool results included, as one string. */
  text: string;
}

/** A request as the fake saw it, normalised across the two formats. */
export interface FakeRequest {
  provider: 'openai' | 'anthropic';
  path: string;
  model: string;
  stream: boolean;
  system: string;
  messages: FakeMessage[];
  /** Names of the tools offered. */
  tools: string[];
  headers: http.IncomingHttpHeaders;
  body: any;
  /** Every message's text joined: handy for finding ids the runtime put in the prompt. */
  allText: string;
  /** The content of the last tool result, parsed as JSON when it is JSON. */
  lastToolResult: unknown;
  /** How many tool results the conversation holds so far (the step of a tool loop). */
  toolResultCount: number;
}

export type FakeHandler = (request: FakeRequest) => FakeStep | undefined | Promise<FakeStep | undefined>;

export interface FakeProvider {
  readonly kind: 'openai' | 'anthropic';
  /** Base URL to give the SDK (`.../v1` for OpenAI, the root for Anthropic). */
  readonly baseURL: string;
  /** Chat/messages requests received, in order. */
  readonly requests: FakeRequest[];
  /** Other requests (embeddings, images): path and body. */
  readonly otherRequests: Array<{ path: string; body: any }>;
  /** Answers taken in order, before the handler is asked. */
  enqueue(...steps: FakeStep[]): void;
  /** Answers for requests the queue does not cover; return undefined to fall to the default. */
  handle(handler: FakeHandler | null): void;
  /** The answer when nothing else gives one (default: the text "Done."). */
  setDefault(step: FakeStep): void;
  /** Requests that are waiting for their answer right now. */
  readonly inFlight: number;
  reset(): void;
  close(): Promise<void>;
}

/** A 1×1 PNG, what the fake images endpoint returns. */
export const FAKE_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const estimate = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: any) => {
        if (typeof part === 'string') return part;
        if (part?.type === 'text') return String(part.text ?? '');
        if (part?.type === 'tool_result') return textOf(part.content);
        if (part?.type === 'tool_use') return JSON.stringify(part.input ?? {});
        return '';
      })
      .join('\n');
  }
  return content == null ? '' : JSON.stringify(content);
}

function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function normalizeOpenAI(path: string, body: any, headers: http.IncomingHttpHeaders): FakeRequest {
  const raw: any[] = Array.isArray(body.messages) ? body.messages : [];
  const system = raw
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content))
    .join('\n');
  const messages = raw
    .filter((m) => m.role !== 'system' && m.role !== 'developer')
    .map((m) => ({
      role: String(m.role),
      text: [textOf(m.content), ...(m.tool_calls ?? []).map((c: any) => c.function?.arguments ?? '')].join('\n'),
    }));
  const toolMessages = raw.filter((m) => m.role === 'tool');
  const last = toolMessages.at(-1);
  return {
    provider: 'openai',
    path,
    model: String(body.model ?? ''),
    stream: body.stream === true,
    system,
    messages,
    tools: (body.tools ?? []).map((t: any) => String(t.function?.name ?? '')),
    headers,
    body,
    allText: [system, ...messages.map((m) => m.text)].join('\n'),
    lastToolResult: last ? parseMaybe(textOf(last.content)) : undefined,
    toolResultCount: toolMessages.length,
  };
}

function normalizeAnthropic(path: string, body: any, headers: http.IncomingHttpHeaders): FakeRequest {
  const raw: any[] = Array.isArray(body.messages) ? body.messages : [];
  const system = textOf(body.system);
  const messages = raw.map((m) => ({ role: String(m.role), text: textOf(m.content) }));
  const results = raw.flatMap((m) =>
    Array.isArray(m.content) ? m.content.filter((p: any) => p?.type === 'tool_result') : [],
  );
  const last = results.at(-1);
  return {
    provider: 'anthropic',
    path,
    model: String(body.model ?? ''),
    stream: body.stream === true,
    system,
    messages,
    tools: (body.tools ?? []).map((t: any) => String(t.name ?? '')),
    headers,
    body,
    allText: [system, ...messages.map((m) => m.text)].join('\n'),
    lastToolResult: last ? parseMaybe(textOf(last.content)) : undefined,
    toolResultCount: results.length,
  };
}

interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Resolves (true) when the client went away before the answer was sent. */
  gone: Promise<true>;
  isGone(): boolean;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Waits `ms`, or less when the client goes away; true when it went away. */
async function pause(exchange: Exchange, ms: number | undefined): Promise<boolean> {
  if (!ms) return exchange.isGone();
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([waited, exchange.gone]);
  clearTimeout(timer);
  return result;
}

abstract class FakeServer implements FakeProvider {
  abstract readonly kind: 'openai' | 'anthropic';
  readonly requests: FakeRequest[] = [];
  readonly otherRequests: Array<{ path: string; body: any }> = [];
  #queue: FakeStep[] = [];
  #handler: FakeHandler | null = null;
  #default: FakeStep = { text: 'Done.' };
  #inFlight = 0;
  #sockets = new Set<Socket>();
  #counter = 0;
  readonly server: http.Server;
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => void this.#serve(req, res));
    this.server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  abstract get baseURL(): string;

  get inFlight(): number {
    return this.#inFlight;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  enqueue(...steps: FakeStep[]): void {
    this.#queue.push(...steps);
  }

  handle(handler: FakeHandler | null): void {
    this.#handler = handler;
  }

  setDefault(step: FakeStep): void {
    this.#default = step;
  }

  reset(): void {
    this.#queue = [];
    this.#handler = null;
    this.#default = { text: 'Done.' };
    this.requests.length = 0;
    this.otherRequests.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}${this.#counter.toString().padStart(6, '0')}`;
  }

  async stepFor(request: FakeRequest): Promise<FakeStep> {
    const queued = this.#queue.shift();
    if (queued) return queued;
    const handled = this.#handler ? await this.#handler(request) : undefined;
    return handled ?? this.#default;
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.#inFlight += 1;
    let gone = false;
    let markGone: (value: true) => void = () => {};
    const gonePromise = new Promise<true>((resolve) => {
      markGone = resolve;
    });
    res.on('close', () => {
      if (!res.writableFinished) {
        gone = true;
        markGone(true);
      }
    });
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : {};
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      await this.route({ req, res, gone: gonePromise, isGone: () => gone }, path, body);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake provider: ${(error as Error).message}` } });
      else res.destroy();
    } finally {
      this.#inFlight -= 1;
    }
  }

  abstract route(exchange: Exchange, path: string, body: any): Promise<void>;
}

function usageFor(step: FakeStep, request: FakeRequest, outputText: string) {
  if ('usage' in step && step.usage) return step.usage;
  return { input: estimate(request.allText), output: estimate(outputText) };
}

class FakeOpenAI extends FakeServer {
  readonly kind = 'openai' as const;

  get baseURL(): string {
    return `${this.url}/v1`;
  }

  async route(exchange: Exchange, path: string, body: any): Promise<void> {
    const { res } = exchange;
    if (path === '/v1/chat/completions') return this.#chat(exchange, path, body);
    if (path === '/v1/embeddings') {
      this.otherRequests.push({ path, body });
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      const dims = typeof body.dimensions === 'number' ? body.dimensions : 1536;
      const data = inputs.map((input, index) => {
        const vector = fakeEmbedding(String(input), dims);
        return {
          object: 'embedding',
          index,
          embedding:
            body.encoding_format === 'base64'
              ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
              : vector,
        };
      });
      const tokens = inputs.reduce((n, i) => n + estimate(String(i)), 0);
      return sendJson(res, 200, {
        object: 'list',
        data,
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    }
    if (path === '/v1/images/generations') {
      this.otherRequests.push({ path, body });
      const n = typeof body.n === 'number' ? body.n : 1;
      return sendJson(res, 200, {
        created: Math.floor(Date.now() / 1000),
        data: Array.from({ length: n }, () => ({ b64_json: FAKE_PNG_BASE64, revised_prompt: String(body.prompt) })),
        usage: {
          input_tokens: estimate(String(body.prompt)),
          output_tokens: 0,
          total_tokens: estimate(String(body.prompt)),
        },
      });
    }
    if (path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', owned_by: 'fake' }] });
    }
    sendJson(res, 404, { error: { message: `fake OpenAI has no ${path}`, type: 'invalid_request_error' } });
  }

  async #chat(exchange: Exchange, path: string, body: any): Promise<void> {
    const { req, res } = exchange;
    const request = normalizeOpenAI(path, body, req.headers);
    this.requests.push(request);
    const step = await this.stepFor(request);
    if ('hang' in step) {
      await exchange.gone;
      return;
    }
    if (await pause(exchange, step.delayMs)) return;
    if ('error' in step) {
      const error = (status: number, type: string, message: string, code: string | null, extra = {}) =>
        sendJson(res, status, { error: { message, type, param: null, code } }, extra);
      switch (step.error) {
        case 'rate_limit': {
          const headers: Record<string, string> = { 'x-should-retry': 'true' };
          if (step.retryAfterMs !== undefined) headers['retry-after-ms'] = String(step.retryAfterMs);
          if (step.retryAfterSeconds !== undefined) headers['retry-after'] = String(step.retryAfterSeconds);
          return error(429, 'requests', 'Rate limit reached for requests', 'rate_limit_exceeded', headers);
        }
        case 'overloaded':
          return error(503, 'server_error', 'The engine is currently overloaded, please try again later', null, {
            ...(step.retryAfterSeconds !== undefined ? { 'retry-after': String(step.retryAfterSeconds) } : {}),
          });
        case 'server':
          return error(step.status ?? 500, 'server_error', 'The server had an error processing your request', null);
        case 'quota':
          return error(
            429,
            'insufficient_quota',
            'You exceeded your current quota, please check your plan and billing details.',
            'insufficient_quota',
          );
        case 'auth':
          return error(401, 'invalid_request_error', 'Incorrect API key provided', 'invalid_api_key');
        case 'bad_request':
          return error(400, 'invalid_request_error', step.message ?? 'Invalid request', null);
      }
    }
    const toolCalls =
      'toolCalls' in step
        ? step.toolCalls.map((c) => ({
            id: c.id ?? this.nextId('call_'),
            type: 'function' as const,
            function: {
              name: c.name,
              arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {}),
            },
          }))
        : [];
    const text = step.text ?? null;
    const outputText = (text ?? '') + toolCalls.map((c) => c.function.arguments).join('');
    const usage = usageFor(step, request, outputText);
    const finish = toolCalls.length ? 'tool_calls' : 'stop';
    const id = this.nextId('chatcmpl-');
    const created = Math.floor(Date.now() / 1000);
    const usageBody = {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    };
    if (!request.stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: text,
              refusal: null,
              ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: usageBody,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (choices: unknown[], extra: object = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices, ...extra })}\n\n`,
      );
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    if (text) {
      for (const piece of splitText(text)) chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]);
    }
    toolCalls.forEach((call, index) => {
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: [
              { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
            ],
          },
          finish_reason: null,
        },
      ]);
      for (const piece of splitText(call.function.arguments)) {
        chunk([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null }]);
      }
    });
    chunk([{ index: 0, delta: {}, finish_reason: finish }]);
    if (body.stream_options?.include_usage) chunk([], { usage: usageBody });
    res.end('data: [DONE]\n\n');
  }
}

class FakeAnthropic extends FakeServer {
  readonly kind = 'anthropic' as const;

  get baseURL(): string {
    return this.url;
  }

  async route(exchange: Exchange, path: string, body: any): Promise<void> {
    const { req, res } = exchange;
    if (path !== '/v1/messages') {
      return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no ${path}` } });
    }
    const request = normalizeAnthropic(path, body, req.headers);
    this.requests.push(request);
    const step = await this.stepFor(request);
    if ('hang' in step) {
      await exchange.gone;
      return;
    }
    if (await pause(exchange, step.delayMs)) return;
    if ('error' in step) {
      const error = (status: number, type: string, message: string, headers = {}, details?: object) =>
        sendJson(
          res,
          status,
          { type: 'error', error: { type, message, ...(details ? { details } : {}) }, request_id: this.nextId('req_') },
          headers,
        );
      switch (step.error) {
        case 'rate_limit': {
          const headers: Record<string, string> = {};
          if (step.retryAfterSeconds !== undefined) headers['retry-after'] = String(step.retryAfterSeconds);
          if (step.retryAfterMs !== undefined) headers['retry-after-ms'] = String(step.retryAfterMs);
          return error(
            429,
            'rate_limit_error',
            'Number of request tokens has exceeded your per-minute rate limit',
            headers,
          );
        }
        case 'overloaded':
          return error(529, 'overloaded_error', 'Overloaded', {
            ...(step.retryAfterSeconds !== undefined ? { 'retry-after': String(step.retryAfterSeconds) } : {}),
          });
        case 'server':
          return error(step.status ?? 500, 'api_error', 'Internal server error');
        case 'quota':
          return error(
            429,
            'rate_limit_error',
            'Your organization has reached its monthly spend limit.',
            {},
            {
              error_code: 'enforced_spend_limit_reached',
            },
          );
        case 'auth':
          return error(401, 'authentication_error', 'invalid x-api-key');
        case 'bad_request':
          return error(400, 'invalid_request_error', step.message ?? 'Invalid request');
      }
    }
    const toolUses =
      'toolCalls' in step
        ? step.toolCalls.map((c) => ({
            type: 'tool_use' as const,
            id: c.id ?? this.nextId('toolu_'),
            name: c.name,
            input: typeof c.arguments === 'string' ? parseMaybe(c.arguments) : (c.arguments ?? {}),
          }))
        : [];
    const text = step.text;
    const content = [...(text ? [{ type: 'text' as const, text }] : []), ...toolUses];
    const outputText = (text ?? '') + toolUses.map((t) => JSON.stringify(t.input)).join('');
    const usage = usageFor(step, request, outputText);
    const stopReason = toolUses.length ? 'tool_use' : 'end_turn';
    const id = this.nextId('msg_');
    if (!request.stream) {
      return sendJson(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model: request.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: usage.output },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const event = (type: string, data: object) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: request.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: 1 },
      },
    });
    event('ping', {});
    content.forEach((block, index) => {
      if (block.type === 'text') {
        event('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const piece of splitText(block.text)) {
          event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        }
      } else {
        event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        for (const piece of splitText(JSON.stringify(block.input))) {
          event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
      }
      event('content_block_stop', { index });
    });
    event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output },
    });
    event('message_stop', {});
    res.end();
  }
}

/** Splits text into a few pieces, as a stream would deliver it. */
function splitText(text: string): string[] {
  if (text.length <= 8) return [text];
  const size = Math.ceil(text.length / 3);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** A deterministic unit vector for a text (same text, same vector). */
export function fakeEmbedding(text: string, dims = 1536): number[] {
  const vector = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
    const hash = createHash('sha256').update(word).digest();
    const index = hash.readUInt32LE(0) % dims;
    vector[index] = (vector[index] ?? 0) + ((hash[4] ?? 0) & 1 ? 1 : -1);
  }
  const norm = Math.sqrt(vector.reduce((n, v) => n + v * v, 0)) || 1;
  return vector.map((v) => v / norm);
}

/** Starts a fake OpenAI server on a free local port: `new OpenAI({ baseURL: fake.baseURL, apiKey: 'test' })`. */
export async function startFakeOpenAI(): Promise<FakeProvider> {
  return new FakeOpenAI().listen();
}

/** Starts a fake Anthropic server on a free local port: `new Anthropic({ baseURL: fake.baseURL, apiKey: 'test' })`. */
export async function startFakeAnthropic(): Promise<FakeProvider> {
  return new FakeAnthropic().listen();
}
