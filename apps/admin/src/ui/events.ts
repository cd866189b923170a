import type { OraEvent } from '@ora/contracts';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

type Listener = (event: OraEvent) => void;

/**
 * The live event stream, read with fetch() so the key goes in the Authorization header (an
 * EventSource cannot send one, and a key in the URL would end up in logs). Parses Server-Sent
 * Events, remembers the last id and resumes after it when the connection drops.
 */
export class LiveEvents {
  #listeners = new Set<Listener>();
  #stateListeners = new Set<(state: StreamState) => void>();
  #resumeListeners = new Set<() => void>();
  #abort: AbortController | null = null;
  #lastId: string | null = null;
  #retryMs = 2000;
  state: StreamState = 'stopped';
  readonly recent: OraEvent[] = [];

  constructor(private readonly key: string) {}

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called when the stream is back after a drop: views reload, in case they missed a change. */
  onResume(listener: () => void): () => void {
    this.#resumeListeners.add(listener);
    return () => this.#resumeListeners.delete(listener);
  }

  onState(listener: (state: StreamState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  start() {
    if (this.#abort) return;
    this.#abort = new AbortController();
    void this.#run(this.#abort.signal);
  }

  stop() {
    this.#abort?.abort();
    this.#abort = null;
    this.#setState('stopped');
  }

  #setState(state: StreamState) {
    this.state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  async #run(signal: AbortSignal) {
    while (!signal.aborted) {
      this.#setState(this.#lastId === null && this.state !== 'reconnecting' ? 'connecting' : this.state);
      try {
        const query = this.#lastId ? `?after=${encodeURIComponent(this.#lastId)}` : '';
        const response = await fetch(`/api/ora/events${query}`, {
          headers: { authorization: `Bearer ${this.key}`, accept: 'text/event-stream' },
          signal,
        });
        if (response.status === 401 || response.status === 403) {
          this.#setState('stopped');
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const resumed = this.state === 'reconnecting';
        this.#setState('live');
        if (resumed) for (const listener of this.#resumeListeners) listener();
        await this.#read(response.body, signal);
      } catch {
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      this.#setState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, this.#retryMs));
    }
  }

  async #read(body: ReadableStream<Uint8Array>, signal: AbortSignal) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        this.#dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  #dispatch(block: string) {
    let id: string | null = null;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data += (data ? '\n' : '') + value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.#retryMs = Number(value);
    }
    if (id) this.#lastId = id;
    if (!data) return;
    let event: OraEvent;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    this.recent.unshift(event);
    this.recent.length = Math.min(this.recent.length, 50);
    for (const listener of this.#listeners) listener(event);
  }
}
