import type { DesktopBridge, DesktopCallName, DesktopCallOutput, DesktopEvent } from '@ora/contracts';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in a browser (web mode). */
    ora?: DesktopBridge;
  }
}

/** A refusal from the core, with the API's error code. */
export class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

/**
 * The bridge over web mode's local HTTP server: calls are POSTs to /bridge/call, events come from
 * /bridge/events (Server-Sent Events). The session token is in the page the server served.
 */
export class WebBridge implements DesktopBridge {
  readonly #token: string;
  readonly #listeners = new Set<(event: DesktopEvent) => void>();
  #source: EventSource | null = null;

  constructor(token: string) {
    this.#token = token;
  }

  async call<N extends DesktopCallName>(name: N, input?: unknown): Promise<DesktopCallOutput<N>> {
    const response = await fetch('/bridge/call', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ora-bridge-token': this.#token },
      body: JSON.stringify({ call: name, input: input ?? {} }),
    });
    const body = (await response.json()) as
      | { ok: true; data: DesktopCallOutput<N> }
      | { ok: false; error: { code: string; message: string } };
    if (!body.ok) throw new BridgeError(body.error.code, body.error.message);
    return body.data;
  }

  onEvent(listener: (event: DesktopEvent) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#source) {
      this.#source = new EventSource(`/bridge/events?token=${encodeURIComponent(this.#token)}`);
      this.#source.onmessage = (message) => {
        const event = JSON.parse(message.data) as DesktopEvent;
        for (const l of this.#listeners) l(event);
      };
    }
    return () => this.#listeners.delete(listener);
  }
}

/** Electron's preload bridge when there is one, else web mode's. */
export function connectBridge(): DesktopBridge {
  if (window.ora) return window.ora;
  const token = document.querySelector<HTMLMetaElement>('meta[name="ora-bridge-token"]')?.content ?? '';
  return new WebBridge(token);
}
