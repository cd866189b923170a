/** Dot product; for unit vectors it is the cosine similarity. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/**
 * Exact nearest neighbours of `query` among unit `vectors` by cosine similarity (brute force):
 * the ground truth an approximate index is measured against, and local search for small sets.
 */
export function exactTopK(
  query: Float32Array,
  vectors: readonly Float32Array[],
  k: number,
): Array<{ index: number; similarity: number }> {
  const best: Array<{ index: number; similarity: number }> = [];
  if (k <= 0) return best;
  for (let index = 0; index < vectors.length; index++) {
    const similarity = dot(query, vectors[index]!);
    if (best.length === k && similarity <= best[k - 1]!.similarity) continue;
    // Insertion into the sorted list of the best so far.
    let i = best.length < k ? best.length : k - 1;
    while (i > 0 && best[i - 1]!.similarity < similarity) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = { index, similarity };
  }
  return best;
}

/** pgvector's text form, `[0.1,0.2,...]`. */
export function toVectorLiteral(vector: Float32Array | readonly number[]): string {
  return `[${Array.from(vector).join(',')}]`;
}
