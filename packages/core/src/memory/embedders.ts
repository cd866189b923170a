import { EMBEDDING_DIMENSIONS, type Embedder, FeatureHashingEmbedder, normalize } from '@ora/retrieval';
import OpenAI from 'openai';
import { NonRetryableJobError } from '../queue/queue-driver';

export type EmbeddingProviderSettings =
  | { kind: 'local' }
  | { kind: 'openai'; model: string; apiKey?: string | undefined; baseURL?: string | undefined; timeoutMs?: number };

/** The embedder of this process: OpenAI-compatible when configured, else the local one. */
export function createEmbedder(settings: EmbeddingProviderSettings): Embedder {
  return settings.kind === 'openai' ? new OpenAIEmbedder(settings) : new FeatureHashingEmbedder();
}

/**
 * Embeddings from OpenAI or any OpenAI-compatible server (Ollama, vLLM) through the official SDK.
 * text-embedding-3 models are asked for 1536 dimensions; a model with fewer is zero-padded to the
 * column's width, which leaves every cosine similarity unchanged.
 */
export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions = EMBEDDING_DIMENSIONS;
  readonly #client: OpenAI;
  readonly #name: string;

  constructor(settings: {
    model: string;
    apiKey?: string | undefined;
    baseURL?: string | undefined;
    timeoutMs?: number;
  }) {
    this.#name = settings.model;
    this.model = `openai/${settings.model}`;
    this.#client = new OpenAI({
      // Local OpenAI-compatible servers take no key; the SDK insists on one.
      apiKey: settings.apiKey ?? 'not-needed',
      ...(settings.baseURL ? { baseURL: settings.baseURL } : {}),
      timeout: settings.timeoutMs ?? 30_000,
      maxRetries: 2,
    });
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const response = await this.#client.embeddings.create({
      model: this.#name,
      input: [...texts],
      ...(this.#name.startsWith('text-embedding-3') ? { dimensions: this.dimensions } : {}),
    });
    const vectors = new Array<Float32Array>(texts.length);
    for (const item of response.data) {
      if (item.embedding.length > this.dimensions) {
        throw new NonRetryableJobError(
          `Embedding model ${this.#name} returns ${item.embedding.length} dimensions, more than the ${this.dimensions} the memory table holds: choose another ORA_EMBEDDING_MODEL or set ORA_EMBEDDINGS=local`,
        );
      }
      const vector = new Float32Array(this.dimensions);
      vector.set(item.embedding);
      vectors[item.index] = normalize(vector);
    }
    if (vectors.some((v) => v === undefined)) throw new Error(`Embedding model ${this.#name} left inputs unanswered`);
    return vectors;
  }
}
