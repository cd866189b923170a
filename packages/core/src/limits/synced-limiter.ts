import type { Redis } from 'ioredis';
import type { Logger } from '../shared/deps';
import type { LimitDecision, LimitWindow, RateLimiter, WindowState } from './rate-limiter';

// INCRBY every window by its increment, start its expiry on the first hit; answers count and
// remaining ms per window.
const INCREMENT_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i * 2 - 1])
  local count = redis.call('INCRBY', key, tonumber(ARGV[i * 2]))
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
`;

type RedisWithIncrement = Redis & {
  oraIncrementWindows(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

interface Bucket {
  limit: number;
  windowMs: number;
  /** The shared count as Redis last told it. */
  known: number;
  /** Requests admitted here and not yet added in Redis. */
  unsynced: number;
  resetAt: number;
  /** Redis has answered for this window at least once (until then every request asks it). */
  learned: boolean;
}

export interface SyncedRateLimiterOptions {
  /** How often counts admitted locally are added to the shared ones. */
  syncIntervalMs?: number;
  /** A request is admitted without asking Redis while the window is below this share of its limit. */
  localShare?: number;
}

/**
 * Shared fixed windows in Redis without a round trip per request: while a window is far from its
 * limit, requests are admitted on the last known shared count and added to Redis in batches every
 * few milliseconds; near the limit every request asks Redis (adding what this process holds), so
 * the limit itself is exact. What replicas admit between two syncs can run ahead of each other's
 * view only inside the first `localShare` of a window.
 */
export class SyncedRateLimiter implements RateLimiter {
  readonly #redis: RedisWithIncrement;
  readonly #buckets = new Map<string, Bucket>();
  readonly #timer: NodeJS.Timeout;
  readonly #localShare: number;
  #syncing: Promise<void> | null = null;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    options: SyncedRateLimiterOptions = {},
  ) {
    redis.defineCommand('oraIncrementWindows', { lua: INCREMENT_SCRIPT });
    this.#redis = redis as RedisWithIncrement;
    this.#localShare = options.localShare ?? 0.5;
    this.#timer = setInterval(() => {
      this.#syncing ??= this.#sync().finally(() => {
        this.#syncing = null;
      });
    }, options.syncIntervalMs ?? 50);
    this.#timer.unref();
  }

  consume(windows: readonly LimitWindow[]): LimitDecision | Promise<LimitDecision> {
    const now = Date.now();
    const buckets = windows.map((w) => this.#bucket(w, now));
    let local = true;
    for (const b of buckets) {
      if (!b.learned || b.known + b.unsynced + 1 > b.limit * this.#localShare) local = false;
    }
    if (!local) return this.#consumeShared(windows, buckets, now);
    // Far from every limit: admit on the counts known here, and pick the tightest window without
    // building a state per window.
    let tightest = 0;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as Bucket;
      b.unsynced += 1;
      const t = buckets[tightest] as Bucket;
      if (b.limit - (b.known + b.unsynced) < t.limit - (t.known + t.unsynced)) tightest = i;
    }
    return {
      allowed: true,
      tightest: stateOf(windows[tightest] as LimitWindow, buckets[tightest] as Bucket, now),
    };
  }

  async #consumeShared(windows: readonly LimitWindow[], buckets: Bucket[], now: number): Promise<LimitDecision> {
    // Near a limit: ask Redis, adding this request and everything admitted here since the last sync.
    const increments = buckets.map((b) => b.unsynced + 1);
    for (const b of buckets) b.unsynced = 0;
    let reply: number[];
    try {
      reply = await this.#increment(windows, increments);
    } catch (error) {
      buckets.forEach((b, i) => {
        b.unsynced += (increments[i] as number) - 1;
      });
      throw error;
    }
    const states = windows.map((w, i) => {
      const bucket = buckets[i] as Bucket;
      bucket.known = Number(reply[i * 2]);
      bucket.resetAt = now + Number(reply[i * 2 + 1]);
      bucket.learned = true;
      return stateOf(w, bucket, now);
    });
    return decide(states);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#syncing;
    await this.#sync().catch(() => undefined);
  }

  #bucket(window: LimitWindow, now: number): Bucket {
    let bucket = this.#buckets.get(window.bucket);
    if (!bucket || bucket.resetAt <= now) {
      // A new window: nothing is known of it until Redis says otherwise (counts admitted in the
      // window that ended belong to it and are dropped with it).
      bucket = {
        limit: window.limit,
        windowMs: window.windowMs,
        known: 0,
        unsynced: 0,
        resetAt: now + window.windowMs,
        learned: false,
      };
      this.#buckets.set(window.bucket, bucket);
    }
    bucket.limit = window.limit;
    return bucket;
  }

  #increment(
    windows: ReadonlyArray<Pick<LimitWindow, 'bucket' | 'windowMs'>>,
    increments: number[],
  ): Promise<number[]> {
    const keys = windows.map((w) => `${this.prefix}rl:${w.bucket}`);
    const args = windows.flatMap((w, i) => [w.windowMs, increments[i] as number]);
    return this.#redis.oraIncrementWindows(keys.length, ...keys, ...args);
  }

  /** Adds what was admitted locally to the shared counts, and learns them back. */
  async #sync(): Promise<void> {
    const now = Date.now();
    const pending = [...this.#buckets].filter(([, b]) => b.unsynced > 0);
    for (const [name, bucket] of this.#buckets) {
      if (bucket.resetAt <= now && bucket.unsynced === 0) this.#buckets.delete(name);
    }
    if (pending.length === 0) return;
    const increments = pending.map(([, b]) => b.unsynced);
    for (const [, b] of pending) b.unsynced = 0;
    try {
      const reply = await this.#increment(
        pending.map(([name, b]) => ({ bucket: name, windowMs: b.windowMs })),
        increments,
      );
      pending.forEach(([, b], i) => {
        b.known = Number(reply[i * 2]);
        b.resetAt = now + Number(reply[i * 2 + 1]);
      });
    } catch (error) {
      pending.forEach(([, b], i) => {
        b.unsynced += increments[i] as number;
      });
      this.log.warn({ err: error }, 'could not add local rate-limit counts to Redis; retrying');
    }
  }
}

function stateOf(window: LimitWindow, bucket: Bucket, now: number): WindowState {
  return {
    bucket: window.bucket,
    limit: window.limit,
    count: bucket.known + bucket.unsynced,
    resetMs: Math.max(0, bucket.resetAt - now),
  };
}

function decide(states: WindowState[]): LimitDecision {
  const over = states.find((s) => s.count > s.limit);
  if (over) return { allowed: false, tightest: over };
  let tightest = states[0] as WindowState;
  for (const s of states) if (s.limit - s.count < tightest.limit - tightest.count) tightest = s;
  return { allowed: true, tightest };
}
