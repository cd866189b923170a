import { createHash } from 'node:crypto';

/** A rendered public response: its body, type and strong ETag. */
export interface CachedPage {
  body: string;
  contentType: string;
  etag: string;
}

/**
 * A page with its ETag. Weak when the bytes sent may differ in what does not matter (a JSON body
 * wrapped in an envelope with the request's own id).
 */
export function pageOf(body: string, contentType: string, options: { weak?: boolean } = {}): CachedPage {
  const tag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, contentType, etag: options.weak ? `W/${tag}` : tag };
}

/** Whether an If-None-Match header matches an ETag (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = bare(etag);
  return ifNoneMatch.split(',').some((candidate) => candidate.trim() === '*' || bare(candidate) === wanted);
}

/**
 * Rendered public pages kept for a short time, so a visitor's revalidation (If-None-Match) costs no
 * query and no markdown rendering. This process drops everything on any change it makes; other
 * replicas see the change once their entries expire (the TTL bounds the staleness).
 */
export class PublicPageCache {
  readonly #entries = new Map<string, { page: CachedPage; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
  ) {}

  get(key: string): CachedPage | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.page;
  }

  set(key: string, page: CachedPage): void {
    if (this.ttlMs <= 0) return;
    if (this.#entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { page, expiresAt: Date.now() + this.ttlMs });
  }

  /** Reads through the cache: `render` runs on a miss, and its answer is kept unless null. */
  async through(key: string, render: () => Promise<CachedPage | null>): Promise<CachedPage | null> {
    const hit = this.get(key);
    if (hit) return hit;
    const page = await render();
    if (page) this.set(key, page);
    return page;
  }

  clear(): void {
    this.#entries.clear();
  }
}
