import type { Logger } from '../shared/deps';
import { type LimitDecision, type LimitWindow, MemoryRateLimiter, type RateLimiter } from './rate-limiter';

/**
 * Uses the shared limiter, and this process's own counts while the shared one cannot answer:
 * losing Redis must not turn every request into an error.
 */
export class FallbackRateLimiter implements RateLimiter {
  readonly #local = new MemoryRateLimiter();
  #lastWarning = 0;

  constructor(
    private readonly shared: RateLimiter,
    private readonly log: Logger,
  ) {}

  consume(windows: readonly LimitWindow[]): LimitDecision | Promise<LimitDecision> {
    let decision: LimitDecision | Promise<LimitDecision>;
    try {
      decision = this.shared.consume(windows);
    } catch (error) {
      return this.#counted(error, windows);
    }
    return decision instanceof Promise ? decision.catch((error) => this.#counted(error, windows)) : decision;
  }

  #counted(error: unknown, windows: readonly LimitWindow[]): LimitDecision {
    if (Date.now() - this.#lastWarning > 30_000) {
      this.#lastWarning = Date.now();
      this.log.warn({ err: error }, 'shared rate limiter unavailable; counting in this process until it is back');
    }
    return this.#local.consume(windows);
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.#local.close()]);
  }
}
