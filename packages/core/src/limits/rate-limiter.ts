import type { Redis } from 'ioredis';

/** One fixed window to count a request against. */
export interface LimitWindow {
  /** Bucket name, e.g. `key:<id>:minute`. */
  bucket: string;
  limit: number;
  windowMs: number;
}

export interface WindowState {
  bucket: string;
  limit: number;
  count: number;
  /** Milliseconds until this window resets. */
  resetMs: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** The window closest to its limit (or the one exceeded): what the rate-limit headers show. */
  tightest: WindowState;
}

/**
 * Counts requests in fixed windows. Every window is counted in one atomic step; the request is
 * allowed only when no window went over its limit.
 */
export interface RateLimiter {
  consume(windows: readonly LimitWindow[]): Promise<LimitDecision>;
  close(): Promise<void>;
}

function decide(states: WindowState[]): LimitDecision {
  const over = states.find((s) => s.count > s.limit);
  if (over) return { allowed: false, tightest: over };
  let tightest = states[0] as WindowState;
  for (const s of states) if (s.limit - s.count < tightest.limit - tightest.count) tightest = s;
  return { allowed: true, tightest };
}

/** For one process (the embedded mode). */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #sweep: NodeJS.Timeout;

  constructor() {
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const [bucket, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(bucket);
    }, 60_000);
    this.#sweep.unref();
  }

  async consume(windows: readonly LimitWindow[]): Promise<LimitDecision> {
    const now = Date.now();
    const states = windows.map((w) => {
      let current = this.#windows.get(w.bucket);
      if (!current || current.resetAt <= now) {
        current = { count: 0, resetAt: now + w.windowMs };
        this.#windows.set(w.bucket, current);
      }
      current.count += 1;
      return { bucket: w.bucket, limit: w.limit, count: current.count, resetMs: current.resetAt - now };
    });
    return decide(states);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }
}

// INCR every window, start its expiry on the first hit; answers count and remaining ms per window.
const CONSUME_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i])
  local count = redis.call('INCR', key)
  local ttl = -1
  if count > 1 then ttl = redis.call('PTTL', key) end
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
`;

type RedisWithConsume = Redis & {
  oraConsume(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

/** Shared by every replica through Redis: one round trip per request, whatever the windows. */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RedisWithConsume;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('oraConsume', { lua: CONSUME_SCRIPT });
    this.#redis = redis as RedisWithConsume;
  }

  async consume(windows: readonly LimitWindow[]): Promise<LimitDecision> {
    const keys = windows.map((w) => `${this.prefix}rl:${w.bucket}`);
    const reply = await this.#redis.oraConsume(keys.length, ...keys, ...windows.map((w) => w.windowMs));
    return decide(
      windows.map((w, i) => ({
        bucket: w.bucket,
        limit: w.limit,
        count: Number(reply[i * 2]),
        resetMs: Number(reply[i * 2 + 1]),
      })),
    );
  }

  async close(): Promise<void> {}
}
