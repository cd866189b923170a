/** A tool as the model sees it: a wire-safe name, what it does, and its arguments as JSON Schema. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A tool call the model asked for; `arguments` is the raw JSON text it produced (untrusted). */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls: ToolCallRequest[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface ChatRequest {
  /** The model's own name at its provider (no `provider/` prefix). */
  model: string;
  system: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  maxOutputTokens: number;
  temperature?: number;
  /** Stream the answer (it is still returned whole). */
  stream?: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResponse {
  text: string | null;
  toolCalls: ToolCallRequest[];
  finishReason: 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';
  usage: TokenUsage;
  /** The model the provider says answered (may be more precise than the one asked for). */
  model: string;
}

export interface ImageRequest {
  model: string;
  prompt: string;
  size?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ImageResult {
  data: Buffer;
  revisedPrompt: string | null;
  usage: TokenUsage | null;
}

export interface EmbeddingRequest {
  model: string;
  input: string[];
  dimensions?: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface EmbeddingResult {
  vectors: number[][];
  usage: TokenUsage;
}

/** One LLM provider behind the same calls; errors are thrown as ProviderError. */
export interface LlmProvider {
  readonly name: ProviderName;
  chat(request: ChatRequest): Promise<ChatResponse>;
  generateImage?(request: ImageRequest): Promise<ImageResult>;
  embed?(request: EmbeddingRequest): Promise<EmbeddingResult>;
}

export const providerNames = ['openai', 'anthropic'] as const;
export type ProviderName = (typeof providerNames)[number];
