import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsBase,
  MessageParam,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import { classifySdkError } from './errors';
import type { ChatRequest, ChatResponse, LlmProvider, ToolCallRequest } from './types';

export interface AnthropicProviderOptions {
  apiKey: string;
  baseURL: string | undefined;
}

/** Tool arguments go back to Anthropic as an object; text the model produced that is not one is wrapped. */
function argumentsObject(raw: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { _raw: raw };
}

/** Anthropic wants strict user/assistant turns: consecutive tool results share one user turn. */
function toWire(request: ChatRequest): MessageParam[] {
  const out: MessageParam[] = [];
  for (const message of request.messages) {
    if (message.role === 'assistant') {
      const content: ContentBlockParam[] = [
        ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
        ...message.toolCalls.map((c) => ({
          type: 'tool_use' as const,
          id: c.id,
          name: c.name,
          input: argumentsObject(c.arguments),
        })),
      ];
      out.push({ role: 'assistant', content: content.length ? content : [{ type: 'text', text: '(no answer)' }] });
      continue;
    }
    const block: ContentBlockParam =
      message.role === 'user'
        ? { type: 'text', text: message.content }
        : {
            type: 'tool_result',
            tool_use_id: message.toolCallId,
            content: message.content,
            ...(message.isError ? { is_error: true } : {}),
          };
    const last = out.at(-1);
    if (last && last.role === 'user' && Array.isArray(last.content)) last.content.push(block);
    else out.push({ role: 'user', content: [block] });
  }
  return out;
}

function finish(reason: string | null | undefined): ChatResponse['finishReason'] {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

function fromMessage(message: Message): ChatResponse {
  const text = message.content
    .filter((b) => b.type === 'text')
    .map((b) => (b as { text: string }).text)
    .join('');
  const toolCalls: ToolCallRequest[] = message.content.flatMap((b) =>
    b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) }] : [],
  );
  return {
    text: text || null,
    toolCalls,
    finishReason: finish(message.stop_reason),
    usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
    model: message.model,
  };
}

/** Anthropic's messages API through the official SDK. */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  readonly #client: Anthropic;

  constructor(options: AnthropicProviderOptions) {
    this.#client = new Anthropic({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      maxRetries: 0,
    });
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const body: MessageCreateParamsBase = {
      model: request.model,
      max_tokens: request.maxOutputTokens,
      messages: toWire(request),
      ...(request.system ? { system: request.system } : {}),
      ...(request.tools.length
        ? {
            tools: request.tools.map((t) => ({
              name: t.name,
              description: t.description,
              input_schema: { type: 'object' as const, ...t.parameters },
            })),
          }
        : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
    const options = { signal: request.signal, timeout: request.timeoutMs, maxRetries: 0 };
    try {
      if (!request.stream) {
        return fromMessage(await this.#client.messages.create({ ...body, stream: false }, options));
      }
      const stream = await this.#client.messages.create({ ...body, stream: true }, options);
      return await this.#collect(stream, request.model);
    } catch (error) {
      throw classifySdkError('anthropic', error, request.signal, Anthropic);
    }
  }

  async #collect(stream: AsyncIterable<RawMessageStreamEvent>, model: string): Promise<ChatResponse> {
    let answeredBy = model;
    let reason: string | null = null;
    const usage = { inputTokens: 0, outputTokens: 0 };
    const blocks = new Map<number, { type: 'text'; text: string } | { type: 'tool'; call: ToolCallRequest }>();
    for await (const event of stream) {
      switch (event.type) {
        case 'message_start':
          answeredBy = event.message.model || answeredBy;
          usage.inputTokens = event.message.usage.input_tokens;
          usage.outputTokens = event.message.usage.output_tokens;
          break;
        case 'content_block_start':
          if (event.content_block.type === 'text') {
            blocks.set(event.index, { type: 'text', text: event.content_block.text });
          } else if (event.content_block.type === 'tool_use') {
            blocks.set(event.index, {
              type: 'tool',
              call: { id: event.content_block.id, name: event.content_block.name, arguments: '' },
            });
          }
          break;
        case 'content_block_delta': {
          const block = blocks.get(event.index);
          if (event.delta.type === 'text_delta' && block?.type === 'text') block.text += event.delta.text;
          if (event.delta.type === 'input_json_delta' && block?.type === 'tool') {
            block.call.arguments += event.delta.partial_json;
          }
          break;
        }
        case 'message_delta':
          reason = event.delta.stop_reason ?? reason;
          usage.outputTokens = event.usage.output_tokens;
          if (event.usage.input_tokens) usage.inputTokens = event.usage.input_tokens;
          break;
        default:
          break;
      }
    }
    const ordered = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
    const text = ordered.map((b) => (b.type === 'text' ? b.text : '')).join('');
    return {
      text: text || null,
      toolCalls: ordered.flatMap((b) =>
        b.type === 'tool' ? [{ ...b.call, arguments: b.call.arguments || '{}' }] : [],
      ),
      finishReason: finish(reason),
      usage,
      model: answeredBy,
    };
  }
}
