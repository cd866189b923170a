import type { Db, Logger } from '../shared/deps';
import { type EventPosition, hasEventsAfter, headPosition, type LoggedEvent, readEvents } from './event-log';
import type { EventWakeSignal } from './wake-signal';

export type FeedListener = (events: readonly LoggedEvent[]) => void;

export interface EventFeedOptions {
  /** Read the log this often while anyone listens (wake-ups make it sooner). */
  pollMs: number;
  batchSize?: number;
}

/** The first re-read after events were found held back by the horizon; each next one waits twice as long. */
const HELD_BACK_RETRY_MS = 25;

/**
 * One reader of the event log per process, fanning new events out to in-process listeners (the
 * live-stream connections), so N open streams cost one query per poll, not N. It reads only while
 * someone listens, starting at the head of the log.
 *
 * A read that finds nothing new while newer events are held back by the horizon (another
 * transaction, maybe in another database of the same Postgres, is still open) reads again soon,
 * backing off up to the poll interval: the events go out as the horizon passes, not a poll later.
 */
export class EventFeed {
  readonly #listeners = new Set<FeedListener>();
  readonly #batchSize: number;
  #position: EventPosition | null = null;
  #starting: Promise<EventPosition> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #retry: NodeJS.Timeout | null = null;
  #retryMs = HELD_BACK_RETRY_MS;
  #unsubscribeWake: (() => void) | null = null;
  #closed = false;

  constructor(
    private readonly deps: { db: Db; log: Logger; wake?: EventWakeSignal },
    private readonly options: EventFeedOptions,
  ) {
    this.#batchSize = options.batchSize ?? 500;
  }

  /**
   * Adds a listener. It is then called with every event after the position answered, in log
   * order, until it unsubscribes.
   */
  async subscribe(listener: FeedListener): Promise<{ position: EventPosition; unsubscribe(): void }> {
    if (this.#closed) throw new Error('the event feed is closed');
    this.#listeners.add(listener);
    try {
      const position = await this.#start();
      return { position, unsubscribe: () => this.#remove(listener) };
    } catch (error) {
      this.#remove(listener);
      throw error;
    }
  }

  /** Reads soon; many wake-ups in a burst make one read. */
  wake(): void {
    if (!this.#position || this.#closed) return;
    void this.#poll();
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#stop();
    await this.#running;
  }

  async #start(): Promise<EventPosition> {
    if (this.#position) return this.#position;
    this.#starting ??= (async () => {
      try {
        const head = await headPosition(this.deps.db);
        this.#position = head;
        this.#timer = setInterval(() => void this.#poll(), this.options.pollMs);
        this.#timer.unref();
        this.#unsubscribeWake = this.deps.wake?.subscribe(() => this.wake()) ?? null;
        return head;
      } finally {
        this.#starting = null;
      }
    })();
    // A listener added while the poll that started the feed was running sees the same position.
    return this.#position ?? this.#starting;
  }

  #remove(listener: FeedListener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0) this.#stop();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    this.#unsubscribeWake?.();
    this.#unsubscribeWake = null;
    this.#position = null;
  }

  #poll(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          while (this.#position && (await this.#readBatch()) === this.#batchSize) {
            // a full batch: read on
          }
        } while (this.#again);
      } catch (err) {
        this.deps.log.warn({ err }, 'reading the event log failed; the next poll retries');
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #readBatch(): Promise<number> {
    const from = this.#position;
    if (!from) return 0;
    const events = await readEvents(this.deps.db, from, this.#batchSize);
    // The feed may have stopped (last listener gone) while reading: a restart reads from the head.
    if (this.#position !== from) return 0;
    if (events.length === 0) {
      if (!this.#retry && (await hasEventsAfter(this.deps.db, from, { heldBack: true })) && this.#position === from) {
        this.#retry = setTimeout(() => {
          this.#retry = null;
          void this.#poll();
        }, this.#retryMs);
        this.#retry.unref();
        this.#retryMs = Math.min(this.#retryMs * 2, this.options.pollMs);
      }
      return 0;
    }
    this.#retryMs = HELD_BACK_RETRY_MS;
    this.#position = (events.at(-1) as LoggedEvent).position;
    for (const listener of this.#listeners) {
      try {
        listener(events);
      } catch (err) {
        this.deps.log.warn({ err }, 'an event feed listener failed');
      }
    }
    return events.length;
  }
}
