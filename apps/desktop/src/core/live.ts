import type { OraEvent } from '@ora/contracts';

export interface EventFeedOptions {
  baseUrl: string;
  apiKey: string;
  /** Event patterns, e.g. ['task.*', 'post.published']. */
  types: string[];
  /** Resume after this event seq (the last one handled). */
  after?: string | null;
  onEvent: (event: OraEvent) => void;
  onState?: (connected: boolean, error: string | null) => void;
  /** Wait before reconnecting; doubles up to 30 s while the server is away. Default 1 s. */
  retryMs?: number;
}

/**
 * The server's live event stream (`GET /api/ora/events`, Server-Sent Events) read with fetch,
 * resumed after the last event seen (`after=`) whenever the connection drops.
 */
export class EventFeed {
  readonly #options: EventFeedOptions;
  #after: string | null;
  #controller: AbortController | null = null;
  #stopped = false;
  #loop: Promise<void> | null = null;

  constructor(options: EventFeedOptions) {
    this.#options = options;
    this.#after = options.after ?? null;
  }

  get lastSeq(): string | null {
    return this.#after;
  }

  start(): void {
    this.#stopped = false;
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#controller?.abort();
    await this.#loop?.catch(() => undefined);
    this.#loop = null;
  }

  async #run(): Promise<void> {
    let delay = this.#options.retryMs ?? 1000;
    while (!this.#stopped) {
      try {
        await this.#connect();
        delay = this.#options.retryMs ?? 1000;
      } catch (error) {
        if (this.#stopped) break;
        this.#options.onState?.(false, (error as Error).message);
      }
      if (this.#stopped) break;
      await new Promise((r) => setTimeout(r, delay).unref?.());
      delay = Math.min(30_000, delay * 2);
    }
  }

  async #connect(): Promise<void> {
    const url = new URL('/api/ora/events', this.#options.baseUrl);
    url.searchParams.set('types', this.#options.types.join(','));
    if (this.#after) url.searchParams.set('after', this.#after);
    this.#controller = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${this.#options.apiKey}`, accept: 'text/event-stream' },
      signal: this.#controller.signal,
    });
    if (!response.ok || !response.body) {
      throw new Error(`the event stream answered HTTP ${response.status}`);
    }
    this.#options.onState?.(true, null);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.#block(block);
        end = buffer.indexOf('\n\n');
      }
    }
    this.#options.onState?.(false, 'the event stream ended');
  }

  #block(block: string): void {
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (!data.length) return;
    try {
      const event = JSON.parse(data.join('\n')) as OraEvent;
      if (id) this.#after = id;
      this.#options.onEvent(event);
    } catch {
      // A line that is not an event (a partial write cannot happen: blocks end with a blank line).
    }
  }
}
