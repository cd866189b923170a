import { FeatureHashingEmbedder, normalize } from '@ora/retrieval';

/**
 * How the desktop keeps memory vectors so a search over 10,000 memories stays under 5 ms.
 *
 * The server embeds with the feature-hashing embedder at 1536 dimensions; an exact scan of
 * 10,000 such vectors costs about 12 ms in plain JS. Feature hashing has a property that makes a
 * smaller copy exact rather than approximate: a feature's slot is `hash % 1536`, and since 384
 * divides 1536, `hash % 1536 % 384 === hash % 384`, so summing the 1536 slots in groups of four
 * ("folding") gives precisely the vector the same embedder makes at 384 dimensions. The desktop
 * therefore keeps, in memory:
 *
 * - a **coarse** copy: the folded 384-dimension unit vector, float32, column by column, so a
 *   query sums only its own non-zero dimensions (a few words touch 20 to 100 of the 384), and
 *   at most its 64 strongest;
 * - the **full** 1536-dimension vector, int8-quantised (one scale per vector: 1.5 KB instead of
 *   6 KB), row by row: the coarse scan's best 2k are re-ranked with it, so their similarity is the
 *   server's within quantisation error (about 0.005).
 *
 * Both are also stored in SQLite (loaded at start, 3 KB per memory in all). On the memory bench's
 * text-like corpus, 384 dimensions, the query's 64 strongest and 80 candidates find 0.935 of the
 * exact top 10 (all 384: 0.949; 256 dimensions and 40 candidates: 0.87). The re-ranked similarity is then mixed with the text rank, importance, recency and
 * frequency by @ora/retrieval's `rankCandidates`, exactly as the server's memory search does.
 */
export const FULL_DIMENSIONS = 1536;
export const COARSE_DIMENSIONS = 384;
/**
 * A query scans at most this many of its strongest coarse dimensions: a long query's weakest
 * ones barely move the candidate list (recall@10 on the bench's corpus: 0.949 with all, 0.935
 * with 64) but each costs a pass over every memory.
 */
export const SCANNED_DIMENSIONS = 64;

/** The server's embedder (same model name, same vectors). */
export const localEmbedder = new FeatureHashingEmbedder({ dimensions: FULL_DIMENSIONS });

/** The 1536-dimension vector folded into 384 slots and normalised (= the 384-wide embedding). */
export function fold(full: Float32Array): Float32Array {
  const coarse = new Float32Array(COARSE_DIMENSIONS);
  for (let i = 0; i < full.length; i++) {
    const slot = i % COARSE_DIMENSIONS;
    coarse[slot] = (coarse[slot] as number) + (full[i] as number);
  }
  return normalize(coarse);
}

/** A unit vector as int8 with its scale (value = byte × scale). */
export function quantize(vector: Float32Array): { bytes: Buffer; scale: number } {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i] as number));
  const scale = max === 0 ? 1 : max / 127;
  const bytes = Buffer.alloc(vector.length);
  for (let i = 0; i < vector.length; i++) bytes.writeInt8(Math.round((vector[i] as number) / scale), i);
  return { bytes, scale };
}

export function coarseToBuffer(coarse: Float32Array): Buffer {
  return Buffer.from(coarse.buffer, coarse.byteOffset, coarse.byteLength);
}

export function bufferToCoarse(buffer: Uint8Array): Float32Array {
  // Copied: SQLite's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(buffer.byteLength);
  copy.set(buffer);
  return new Float32Array(copy.buffer);
}

/** What a slot carries besides its vector, for filtering during the scan. */
export interface SlotMeta {
  /** The agent's id, or null for ORA's own memory. */
  agentId: string | null;
  type: string;
  /** Epoch ms; Infinity when it never expires. */
  expiresAt: number;
}

/**
 * Every live, embedded memory's vectors in memory, keyed by its SQLite rowid: the coarse copy
 * column by column (one Float32Array per dimension, a slot per memory), so a query adds up only
 * its own non-zero dimensions; and the full int8 copy row by row, to re-rank the coarse scan's
 * best. Removing leaves a hole the next insert reuses.
 */
export class VectorIndex {
  #capacity = 1024;
  #columns: Float32Array[] = Array.from({ length: COARSE_DIMENSIONS }, () => new Float32Array(1024));
  #full = new Int8Array(FULL_DIMENSIONS * 1024);
  #scales = new Float32Array(1024);
  #rowids: number[] = [];
  #meta: Array<SlotMeta | null> = [];
  #slotOf = new Map<number, number>();
  #free: number[] = [];
  #scores = new Float32Array(1024);

  get size(): number {
    return this.#slotOf.size;
  }

  set(rowid: number, coarse: Float32Array, full: { bytes: Uint8Array; scale: number }, meta: SlotMeta): void {
    let slot = this.#slotOf.get(rowid);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#rowids.length;
      if (slot >= this.#capacity) this.#grow();
      this.#slotOf.set(rowid, slot);
    }
    this.#rowids[slot] = rowid;
    this.#meta[slot] = meta;
    for (let d = 0; d < COARSE_DIMENSIONS; d++) (this.#columns[d] as Float32Array)[slot] = coarse[d] as number;
    this.#full.set(new Int8Array(full.bytes.buffer, full.bytes.byteOffset, FULL_DIMENSIONS), slot * FULL_DIMENSIONS);
    this.#scales[slot] = full.scale;
  }

  #grow(): void {
    this.#capacity *= 2;
    this.#columns = this.#columns.map((column) => {
      const grown = new Float32Array(this.#capacity);
      grown.set(column);
      return grown;
    });
    const full = new Int8Array(FULL_DIMENSIONS * this.#capacity);
    full.set(this.#full);
    this.#full = full;
    const scales = new Float32Array(this.#capacity);
    scales.set(this.#scales);
    this.#scales = scales;
    this.#scores = new Float32Array(this.#capacity);
  }

  delete(rowid: number): void {
    const slot = this.#slotOf.get(rowid);
    if (slot === undefined) return;
    this.#slotOf.delete(rowid);
    this.#rowids[slot] = -1;
    this.#meta[slot] = null;
    for (let d = 0; d < COARSE_DIMENSIONS; d++) (this.#columns[d] as Float32Array)[slot] = 0;
    this.#free.push(slot);
  }

  clear(): void {
    this.#capacity = 1024;
    this.#columns = Array.from({ length: COARSE_DIMENSIONS }, () => new Float32Array(1024));
    this.#full = new Int8Array(FULL_DIMENSIONS * 1024);
    this.#scales = new Float32Array(1024);
    this.#scores = new Float32Array(1024);
    this.#rowids = [];
    this.#meta = [];
    this.#slotOf.clear();
    this.#free = [];
  }

  /** The full (int8) similarity of one memory to a query, or null when it has no vector. */
  similarity(rowid: number, query: Float32Array): number | null {
    const slot = this.#slotOf.get(rowid);
    if (slot === undefined) return null;
    const base = slot * FULL_DIMENSIONS;
    const full = this.#full;
    let sum = 0;
    for (let i = 0; i < FULL_DIMENSIONS; i++) sum += (query[i] as number) * (full[base + i] as number);
    return sum * (this.#scales[slot] as number);
  }

  /**
   * The `k` nearest memories to a (full, 1536-dimension) query among the slots the filter
   * accepts, best first, by full similarity: the coarse scan takes `candidates` (default 2k), which
   * are re-ranked with the int8 full vectors.
   */
  nearest(
    query: Float32Array,
    k: number,
    accept: (meta: SlotMeta) => boolean,
    candidates = 2 * k,
  ): Array<{ rowid: number; similarity: number }> {
    const coarse = this.#coarseNearest(fold(query), candidates, accept);
    return coarse
      .map(({ rowid }) => ({ rowid, similarity: this.similarity(rowid, query) as number }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }

  #coarseNearest(
    query: Float32Array,
    k: number,
    accept: (meta: SlotMeta) => boolean,
  ): Array<{ rowid: number; similarity: number }> {
    const best: Array<{ rowid: number; similarity: number }> = [];
    if (k <= 0) return best;
    const slots = this.#rowids.length;
    const scores = this.#scores;
    scores.fill(0, 0, slots);
    for (const d of strongestDimensions(query, SCANNED_DIMENSIONS)) {
      const weight = query[d] as number;
      const column = this.#columns[d] as Float32Array;
      for (let slot = 0; slot < slots; slot++)
        scores[slot] = (scores[slot] as number) + weight * (column[slot] as number);
    }
    let floor = Number.NEGATIVE_INFINITY;
    for (let slot = 0; slot < slots; slot++) {
      const similarity = scores[slot] as number;
      if (best.length === k && similarity <= floor) continue;
      const rowid = this.#rowids[slot] as number;
      if (rowid < 0) continue;
      const meta = this.#meta[slot];
      if (!meta || !accept(meta)) continue;
      let i = best.length < k ? best.length : k - 1;
      while (i > 0 && (best[i - 1] as { similarity: number }).similarity < similarity) {
        best[i] = best[i - 1] as { rowid: number; similarity: number };
        i--;
      }
      best[i] = { rowid, similarity };
      if (best.length === k) floor = (best[k - 1] as { similarity: number }).similarity;
    }
    return best;
  }
}

/** The indexes of the query's `limit` largest non-zero weights (by magnitude). */
function strongestDimensions(query: Float32Array, limit: number): number[] {
  const dims: number[] = [];
  for (let d = 0; d < query.length; d++) if (query[d] !== 0) dims.push(d);
  if (dims.length <= limit) return dims;
  return dims.sort((a, b) => Math.abs(query[b] as number) - Math.abs(query[a] as number)).slice(0, limit);
}
