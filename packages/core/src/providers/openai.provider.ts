import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { classifySdkError, ProviderError } from './errors';
import type {
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResult,
  ImageRequest,
  ImageResult,
  LlmProvider,
  ToolCallRequest,
} from './types';

export interface OpenAIProviderOptions {
  apiKey: string | undefined;
  /** An OpenAI-compatible server (Ollama, vLLM, OpenRouter); absent: api.openai.com. */
  baseURL: string | undefined;
}

function toWire(request: ChatRequest): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const message of request.messages) {
    if (message.role === 'user') messages.push({ role: 'user', content: message.content });
    else if (message.role === 'assistant') {
      messages.push({
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls.length
          ? {
              tool_calls: message.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      });
    } else messages.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.content });
  }
  return messages;
}

function finish(reason: string | null | undefined): ChatResponse['finishReason'] {
  switch (reason) {
    case 'stop':
    case 'tool_calls':
    case 'length':
    case 'content_filter':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

/** OpenAI, or any server speaking its chat completions API, through the official SDK. */
export class OpenAIProvider implements LlmProvider {
  readonly name = 'openai' as const;
  readonly #client: OpenAI;
  readonly #compatible: boolean;

  constructor(options: OpenAIProviderOptions) {
    // Retries are the router's (it records each attempt and honours retry-after itself).
    this.#client = new OpenAI({
      // Local OpenAI-compatible servers (Ollama) take no key; the SDK insists on one.
      apiKey: options.apiKey ?? 'not-needed',
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      maxRetries: 0,
    });
    this.#compatible = options.baseURL !== undefined;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const body: ChatCompletionCreateParamsBase = {
      model: request.model,
      messages: toWire(request),
      ...(request.tools.length
        ? {
            tools: request.tools.map((t) => ({
              type: 'function' as const,
              function: { name: t.name, description: t.description, parameters: t.parameters },
            })),
          }
        : {}),
      // api.openai.com wants max_completion_tokens (reasoning models refuse max_tokens); compatible servers know max_tokens.
      ...(this.#compatible
        ? { max_tokens: request.maxOutputTokens }
        : { max_completion_tokens: request.maxOutputTokens }),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
    const options = { signal: request.signal, timeout: request.timeoutMs, maxRetries: 0 };
    try {
      if (!request.stream) {
        const completion = await this.#client.chat.completions.create({ ...body, stream: false }, options);
        const choice = completion.choices[0];
        const toolCalls: ToolCallRequest[] = (choice?.message.tool_calls ?? []).flatMap((c) =>
          c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
        );
        return {
          text: choice?.message.content ?? null,
          toolCalls,
          finishReason: finish(choice?.finish_reason),
          usage: {
            inputTokens: completion.usage?.prompt_tokens ?? 0,
            outputTokens: completion.usage?.completion_tokens ?? 0,
          },
          model: completion.model,
        };
      }
      const stream = await this.#client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        options,
      );
      return await this.#collect(stream, request.model);
    } catch (error) {
      throw classifySdkError('openai', error, request.signal, OpenAI);
    }
  }

  async #collect(stream: AsyncIterable<ChatCompletionChunk>, model: string): Promise<ChatResponse> {
    let text = '';
    let sawText = false;
    let reason: string | null = null;
    let answeredBy = model;
    let usage = { inputTokens: 0, outputTokens: 0 };
    const calls = new Map<number, ToolCallRequest>();
    for await (const chunk of stream) {
      answeredBy = chunk.model || answeredBy;
      if (chunk.usage) {
        usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
      }
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) {
        text += choice.delta.content;
        sawText = true;
      }
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.name += delta.function.name;
        if (delta.function?.arguments) call.arguments += delta.function.arguments;
        calls.set(delta.index, call);
      }
      if (choice.finish_reason) reason = choice.finish_reason;
    }
    return {
      text: sawText ? text : null,
      toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call),
      finishReason: finish(reason),
      usage,
      model: answeredBy,
    };
  }

  async generateImage(request: ImageRequest): Promise<ImageResult> {
    try {
      const result = await this.#client.images.generate(
        {
          model: request.model,
          prompt: request.prompt,
          n: 1,
          ...(request.size ? { size: request.size as '1024x1024' } : {}),
          // The GPT image models always answer in base64 and refuse the parameter; DALL·E needs it.
          ...(request.model.startsWith('dall-e') ? { response_format: 'b64_json' as const } : {}),
        },
        { signal: request.signal, timeout: request.timeoutMs, maxRetries: 0 },
      );
      const image = result.data?.[0];
      if (!image?.b64_json) {
        throw new ProviderError({
          kind: 'bad_request',
          provider: 'openai',
          message: 'the images API returned no image data',
        });
      }
      const usage = (result as { usage?: { input_tokens?: number; output_tokens?: number } }).usage;
      return {
        data: Buffer.from(image.b64_json, 'base64'),
        revisedPrompt: image.revised_prompt ?? null,
        usage: usage ? { inputTokens: usage.input_tokens ?? 0, outputTokens: usage.output_tokens ?? 0 } : null,
      };
    } catch (error) {
      throw classifySdkError('openai', error, request.signal, OpenAI);
    }
  }

  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    try {
      const result = await this.#client.embeddings.create(
        {
          model: request.model,
          input: request.input,
          ...(request.dimensions ? { dimensions: request.dimensions } : {}),
        },
        { signal: request.signal, timeout: request.timeoutMs, maxRetries: 0 },
      );
      return {
        vectors: [...result.data].sort((a, b) => a.index - b.index).map((d) => d.embedding),
        usage: { inputTokens: result.usage.prompt_tokens, outputTokens: 0 },
      };
    } catch (error) {
      throw classifySdkError('openai', error, request.signal, OpenAI);
    }
  }
}
