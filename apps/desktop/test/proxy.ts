import net from 'node:net';

/**
 * A real TCP proxy between a desktop and its ORA server, to make the network fail honestly:
 * `down` resets every connection (the server is unreachable), and `holdResponses(pattern)` passes
 * matching requests on to the server but never returns the answer (the server did the work; the
 * client times out).
 */
export class TestProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #down = false;
  #hold: RegExp | null = null;
  /** Requests the server got whose answers were held back. */
  held = 0;
  port = 0;

  private constructor(readonly target: { host: string; port: number }) {
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TestProxy> {
    const proxy = new TestProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Unreachable: open connections are reset, new ones too. */
  down(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  up(): void {
    this.#down = false;
  }

  /** Requests whose head matches reach the server, but their answers are dropped. */
  holdResponses(pattern: RegExp | null): void {
    this.#hold = pattern;
  }

  #accept(client: net.Socket): void {
    if (this.#down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    this.#sockets.add(client).add(upstream);
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      if (!holding && this.#hold?.test(chunk.toString('latin1'))) {
        holding = true;
        this.held++;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
