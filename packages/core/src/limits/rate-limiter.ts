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
 * allowed only when no window went over its limit. The decision is a plain value when the limiter
 * could make it without I/O (the common case: callers on the hot path need not wait a tick), a
 * promise otherwise.
 */
export interface RateLimiter {
  consume(windows: readonly LimitWindow[]): LimitDecision | Promise<LimitDecision>;
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

  consume(windows: readonly LimitWindow[]): LimitDecision {
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
