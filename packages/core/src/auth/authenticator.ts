import { OraError } from '@ora/contracts';
import type { ApiKeyRow } from '@ora/db';
import { hashSecret, isWellFormedSecret } from '../keys/key-format';
import type { Clock, Db } from '../shared/deps';
import { compileAllowlist } from './ip-allowlist';

/** A key that passed authentication, as the rest of the request sees it. */
export interface AuthenticatedKey {
  keyId: string;
  name: string;
  prefix: string;
  scopes: readonly string[];
  agentId: string | null;
  expiresAt: Date | null;
  rateLimitPerMinute: number;
  rateLimitPerDay: number;
}

interface CacheEntry {
  key: (AuthenticatedKey & { allows: ((ip: string | null) => boolean) | null }) | null;
  loadedAt: number;
}

export interface AuthenticatorOptions {
  db: Db;
  clock: Clock;
  /** How long a found key is trusted without asking the database again. */
  ttlMs?: number;
  /** How long an unknown key is remembered as unknown. */
  negativeTtlMs?: number;
  maxEntries?: number;
}

/** Distinct Authorization headers remembered with their hash (clients are few; cleared when full). */
const HEADER_MEMO_SIZE = 1024;

const unauthorized = (message: string) => new OraError({ code: 'UNAUTHORIZED', message });

/**
 * Checks bearer keys. Keys are cached by hash, so a request costs no database round trip;
 * `forget(keyId)` drops a changed key at once (revocation is wired to it, also across
 * processes through Redis), and the TTL bounds how stale any entry can be.
 */
export class Authenticator {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<CacheEntry>>();
  /**
   * Authorization header -> the hash of its key, for well-formed keys: a client sends the same
   * header on every request, and SHA-256 of it was the largest cost of a cached check. It holds
   * nothing the process did not just receive, and decides nothing: the entry of `#cache` it points
   * to does (a revoked key is forgotten there).
   */
  readonly #hashes = new Map<string, string>();

  constructor(options: AuthenticatorOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Parses an Authorization header value and returns the key, or throws UNAUTHORIZED/FORBIDDEN. */
  async authenticate(authorization: string | undefined, ip: string | null): Promise<AuthenticatedKey> {
    return (
      this.authenticateCached(authorization, ip) ?? this.#check(await this.#lookup(this.#hashOf(authorization)), ip)
    );
  }

  /**
   * `authenticate` without waiting: the key when its cache entry is fresh, undefined when the
   * database must be asked (then call `authenticate`). Throws as `authenticate` does.
   */
  authenticateCached(authorization: string | undefined, ip: string | null): AuthenticatedKey | undefined {
    const hash = this.#hashOf(authorization);
    const cached = this.#cache.get(hash);
    if (!cached || Date.now() - cached.loadedAt >= (cached.key ? this.#ttlMs : this.#negativeTtlMs)) return undefined;
    return this.#check(cached, ip);
  }

  /** The hash of the bearer secret, or UNAUTHORIZED when the header holds none. */
  #hashOf(authorization: string | undefined): string {
    if (!authorization) throw unauthorized('Missing API key: send "Authorization: Bearer ora_sk_..."');
    const known = this.#hashes.get(authorization);
    if (known !== undefined) return known;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw unauthorized('Malformed Authorization header: expected "Bearer <key>"');
    const secret = match[1];
    const hash = hashSecret(secret);
    // Only well-formed secrets are ever cached, so a cached hash needs no checksum check; a typo
    // or a made-up string is refused here without a database query.
    if (!this.#cache.has(hash) && !isWellFormedSecret(secret)) {
      throw unauthorized('Invalid API key: not an ORA key (check for a typo)');
    }
    if (this.#hashes.size >= HEADER_MEMO_SIZE) this.#hashes.clear();
    this.#hashes.set(authorization, hash);
    return hash;
  }

  #check(entry: CacheEntry, ip: string | null): AuthenticatedKey {
    const key = entry.key;
    if (!key) throw unauthorized('Invalid API key: unknown or revoked');
    if (key.expiresAt && key.expiresAt <= this.#clock.now()) throw unauthorized('API key expired');
    if (key.allows && !key.allows(ip)) {
      throw new OraError({ code: 'FORBIDDEN', message: `API key not allowed from ${ip ?? 'this address'}` });
    }
    return key;
  }

  /** Drops a key from the cache (after revoke, rotate or update). */
  forget(keyId: string): void {
    for (const [hash, entry] of this.#cache) if (entry.key?.keyId === keyId) this.#cache.delete(hash);
  }

  forgetAll(): void {
    this.#cache.clear();
    this.#hashes.clear();
  }

  async #lookup(hash: string): Promise<CacheEntry> {
    const now = Date.now();
    const cached = this.#cache.get(hash);
    if (cached && now - cached.loadedAt < (cached.key ? this.#ttlMs : this.#negativeTtlMs)) return cached;
    // Concurrent requests with the same key share one query.
    let loading = this.#loading.get(hash);
    if (!loading) {
      loading = this.#load(hash).finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, loading);
    }
    return loading;
  }

  async #load(hash: string): Promise<CacheEntry> {
    const row = await this.#db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', hash)
      .where('is_active', '=', true)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const entry: CacheEntry = { key: row ? toKey(row) : null, loadedAt: Date.now() };
    if (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(hash, entry);
    return entry;
  }
}

function toKey(row: ApiKeyRow): NonNullable<CacheEntry['key']> {
  return {
    keyId: row.id,
    name: row.name,
    prefix: row.key_prefix,
    scopes: row.scopes,
    agentId: row.agent_id,
    expiresAt: row.expires_at,
    rateLimitPerMinute: row.rate_limit_per_minute,
    rateLimitPerDay: row.rate_limit_per_day,
    allows: compileAllowlist(row.allowed_ips),
  };
}
