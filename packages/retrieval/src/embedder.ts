import { normalizeText, STOPWORDS, stem, words } from './text';

/** The width of the `embedding vector(1536)` column (and of OpenAI's text-embedding-3-small). */
export const EMBEDDING_DIMENSIONS = 1536;

/** Turns texts into unit vectors of one width. Local ones are synchronous; a provider's are not. */
export interface Embedder {
  /** Recorded with every vector, so a changed model shows which rows need embedding again. */
  readonly model: string;
  readonly dimensions: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface FeatureHashingOptions {
  dimensions?: number;
  /** Character n-gram lengths taken from each word (with `<` `>` marking its ends). */
  ngramRange?: readonly [number, number];
  /** Weights of the three feature families; a word is worth 1. */
  weights?: { word?: number; bigram?: number; ngram?: number };
}

const DEFAULTS = {
  ngramRange: [3, 5] as const,
  weights: { word: 1, bigram: 0.5, ngram: 0.25 },
};

/**
 * The built-in embedder: feature hashing of words (lightly stemmed, stop words out), adjacent
 * word pairs and character n-grams, each hashed to a signed slot of the vector ("the hashing
 * trick"), weighted by 1 + ln(tf), then L2-normalised. No model to download, deterministic,
 * and the same in the server and the desktop; it matches shared words and spellings (typos,
 * inflections, compounds), not meaning the way a trained model does.
 */
export class FeatureHashingEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly #min: number;
  readonly #max: number;
  readonly #weights: { word: number; bigram: number; ngram: number };

  constructor(options: FeatureHashingOptions = {}) {
    this.dimensions = options.dimensions ?? EMBEDDING_DIMENSIONS;
    const [min, max] = options.ngramRange ?? DEFAULTS.ngramRange;
    this.#min = min;
    this.#max = max;
    this.#weights = { ...DEFAULTS.weights, ...options.weights };
    const w = this.#weights;
    // The name changes with anything that changes the vectors, so stored ones are redone.
    this.model = `local/feature-hash-v1-d${this.dimensions}-n${min}${max}-w${w.word}_${w.bigram}_${w.ngram}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => this.embedSync(text));
  }

  /** One text; a text with no words gives the zero vector (callers store no embedding for it). */
  embedSync(text: string): Float32Array {
    const counts = new Map<string, number>();
    const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
    const tokens = words(normalizeText(text));
    let previous: string | null = null;
    for (const token of tokens) {
      if (STOPWORDS.has(token)) {
        previous = null;
        continue;
      }
      const stemmed = stem(token);
      add(`w ${stemmed}`);
      if (previous !== null) add(`b ${previous} ${stemmed}`);
      previous = stemmed;
      const marked = `<${token}>`;
      for (let n = this.#min; n <= this.#max; n++) {
        if (marked.length < n) break;
        for (let i = 0; i + n <= marked.length; i++) add(`c${marked.slice(i, i + n)}`);
      }
    }

    const vector = new Float32Array(this.dimensions);
    for (const [feature, tf] of counts) {
      const family = feature.charCodeAt(0);
      const weight = family === 119 ? this.#weights.word : family === 98 ? this.#weights.bigram : this.#weights.ngram;
      const h = hashString(feature);
      const slot = h % this.dimensions;
      const sign = mix32(h ^ 0x9e3779b9) & 1 ? 1 : -1;
      vector[slot] = (vector[slot] ?? 0) + sign * weight * (1 + Math.log(tf));
    }
    return normalize(vector);
  }
}

/** Scales a vector to length 1 in place (the zero vector stays zero). */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) ** 2;
  if (sum === 0) return vector;
  const inverse = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * inverse;
  return vector;
}

/** FNV-1a over UTF-16 code units, finished with murmur3's mixer for well-spread low bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Is this vector all zeros (a text without words)? */
export function isZeroVector(vector: Float32Array): boolean {
  for (let i = 0; i < vector.length; i++) if (vector[i] !== 0) return false;
  return true;
}
