import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/deps';

/**
 * "Events may have been committed": a wake-up for readers of the event log (the live stream, the
 * webhook dispatcher) so they read now instead of at their next poll. Only a hint: the log in
 * Postgres is the truth, and readers poll it anyway, so a lost signal costs latency, never an event.
 */
export interface EventWakeSignal {
  /** Call after a commit that wrote events. Cheap and never throws; bursts coalesce. */
  announce(): void;
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Readers wake this long after an announcement, and announcements meanwhile join it: a burst of
 * commits (say 50 task creations in flight) makes one read of the log per interval instead of one
 * per commit, and the read stays off the path of the work that announced (a task being created is
 * on its way to a worker meanwhile). Costs live streams and webhooks this much latency.
 */
const WAKE_DELAY_MS = 50;

/** Wakes readers in this process only (the embedded mode, or no Redis). */
export class LocalWakeSignal implements EventWakeSignal {
  readonly #listeners = new Set<() => void>();
  readonly #delayMs: number;
  #scheduled: NodeJS.Timeout | null = null;

  constructor(options: { delayMs?: number } = {}) {
    this.#delayMs = options.delayMs ?? WAKE_DELAY_MS;
  }

  announce(): void {
    this.notifySoon();
  }

  /**
   * Runs the listeners of this process after the delay, times `factor` (announcements meanwhile
   * join the one already scheduled).
   */
  notifySoon(factor = 1): void {
    if (this.#scheduled) return;
    this.#scheduled = setTimeout(() => {
      this.#scheduled = null;
      this.notifyLocal();
    }, this.#delayMs * factor);
  }

  /** Runs the listeners of this process now. */
  notifyLocal(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {
        // a listener's failure is its own; the others still wake
      }
    }
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#scheduled) clearTimeout(this.#scheduled);
    this.#scheduled = null;
    this.#listeners.clear();
  }
}

/**
 * Wakes readers in every process sharing a Redis: an announcement wakes this process at once and
 * is published on `<prefix>events:wake` for the others (API replicas, workers).
 */
export class RedisWakeSignal implements EventWakeSignal {
  readonly #local = new LocalWakeSignal();
  readonly #origin = randomUUID();
  readonly #channel: string;
  readonly #delayMs = WAKE_DELAY_MS;
  #publishTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly log: Logger,
  ) {
    this.#channel = `${prefix}events:wake`;
  }

  /** Subscribes on a connection of its own (duplicated from `redis`) before answering. */
  static async start(redis: Redis, prefix: string, log: Logger): Promise<RedisWakeSignal> {
    const subscriber = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: true });
    subscriber.on('error', (err) => log.warn({ err }, 'redis event-wake subscriber error'));
    const signal = new RedisWakeSignal(redis, subscriber, prefix, log);
    await subscriber.connect();
    await subscriber.subscribe(signal.#channel);
    // Another process's announcement: its own readers go first (the webhook dispatcher there
    // takes the new events); ours look a little later, when there is usually nothing left.
    subscriber.on('message', (_channel, origin: string) => {
      if (origin !== signal.#origin) signal.#local.notifySoon(2);
    });
    // Messages sent while the connection was down are gone: read now in case one was missed.
    subscriber.on('ready', () => signal.#local.notifyLocal());
    return signal;
  }

  announce(): void {
    this.#local.announce();
    if (this.#publishTimer) return;
    // Published once per interval too: every other process reads the log once per burst.
    this.#publishTimer = setTimeout(() => {
      this.#publishTimer = null;
      this.publisher
        .publish(this.#channel, this.#origin)
        .catch((err) => this.log.debug({ err }, 'could not publish an event wake-up; readers poll anyway'));
    }, this.#delayMs);
  }

  subscribe(listener: () => void): () => void {
    return this.#local.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.#publishTimer) clearTimeout(this.#publishTimer);
    this.#publishTimer = null;
    await this.#local.close();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
