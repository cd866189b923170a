import type { Db } from '../shared/deps';
import type { EventFeed } from './event-feed';
import {
  comparePositions,
  type EventPosition,
  type EventReadFilter,
  eventPassesFilter,
  type LoggedEvent,
  positionAfterSeq,
  readEvents,
} from './event-log';

export interface EventStreamOptions {
  filter: EventReadFilter;
  /** The seq of the last event the client saw (Last-Event-ID); absent: only events from now on. */
  afterSeq?: string;
  /** Gets each event once, in log order. Answer false to say the client cannot keep up: the stream ends. */
  send(event: LoggedEvent): boolean;
  /** The stream ended by itself (the client could not keep up, or reading failed). */
  onEnd(reason: string): void;
}

/**
 * One subscriber's view of the log: catches up from its position by reading the database, then
 * follows the process's feed, with no gap and no repeat at the seam (feed events that arrive during
 * the catch-up wait in a buffer and are sent only past the position the catch-up reached).
 */
export class EventStream {
  #position: EventPosition = { txid: '0', seq: '0' };
  #buffer: LoggedEvent[] | null = [];
  #unsubscribe: (() => void) | null = null;
  #ended = false;

  private constructor(private readonly options: EventStreamOptions) {}

  static async open(deps: { db: Db; feed: EventFeed }, options: EventStreamOptions): Promise<EventStream> {
    const stream = new EventStream(options);
    const subscription = await deps.feed.subscribe((events) => stream.#fromFeed(events));
    stream.#unsubscribe = subscription.unsubscribe;
    try {
      if (options.afterSeq === undefined) {
        stream.#position = subscription.position;
      } else {
        stream.#position = await positionAfterSeq(deps.db, options.afterSeq);
        await stream.#catchUp(deps.db);
      }
    } catch (error) {
      stream.close();
      throw error;
    }
    const waiting = stream.#buffer ?? [];
    stream.#buffer = null;
    stream.#deliver(waiting);
    return stream;
  }

  close(): void {
    this.#ended = true;
    this.#buffer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  async #catchUp(db: Db): Promise<void> {
    const page = 500;
    for (;;) {
      const rows = await readEvents(db, this.#position, page, this.options.filter);
      for (const row of rows) {
        if (this.#ended) return;
        this.#position = row.position;
        if (!this.options.send(row)) return this.#end('the client is not reading fast enough');
      }
      if (rows.length < page || this.#ended) return;
    }
  }

  #fromFeed(events: readonly LoggedEvent[]): void {
    if (this.#ended) return;
    if (this.#buffer) {
      this.#buffer.push(...events);
      return;
    }
    this.#deliver(events);
  }

  #deliver(events: readonly LoggedEvent[]): void {
    for (const row of events) {
      if (this.#ended) return;
      if (comparePositions(row.position, this.#position) <= 0) continue;
      this.#position = row.position;
      if (!eventPassesFilter(row.event, this.options.filter)) continue;
      if (!this.options.send(row)) {
        this.#end('the client is not reading fast enough');
        return;
      }
    }
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.close();
    this.options.onEnd(reason);
  }
}
