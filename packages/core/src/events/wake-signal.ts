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

/** Wakes readers in this process only (the embedded mode, or no Redis). */
export class LocalWakeSignal implements EventWakeSignal {
  readonly #listeners = new Set<() => void>();
  #scheduled = false;

  announce(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.notifyLocal();
    });
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
  #publishScheduled = false;

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
    subscriber.on('message', (_channel, origin: string) => {
      if (origin !== signal.#origin) signal.#local.notifyLocal();
    });
    // Messages sent while the connection was down are gone: read now in case one was missed.
    subscriber.on('ready', () => signal.#local.notifyLocal());
    return signal;
  }

  announce(): void {
    this.#local.announce();
    if (this.#publishScheduled) return;
    this.#publishScheduled = true;
    setImmediate(() => {
      this.#publishScheduled = false;
      this.publisher
        .publish(this.#channel, this.#origin)
        .catch((err) => this.log.debug({ err }, 'could not publish an event wake-up; readers poll anyway'));
    });
  }

  subscribe(listener: () => void): () => void {
    return this.#local.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.#local.close();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
