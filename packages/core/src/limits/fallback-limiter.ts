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

  async consume(windows: readonly LimitWindow[]): Promise<LimitDecision> {
    try {
      return await this.shared.consume(windows);
    } catch (error) {
      if (Date.now() - this.#lastWarning > 30_000) {
        this.#lastWarning = Date.now();
        this.log.warn({ err: error }, 'shared rate limiter unavailable; counting in this process until it is back');
      }
      return this.#local.consume(windows);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.#local.close()]);
  }
}
