import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver got it: the raw body is kept, so signatures can be checked. */
export interface ReceivedRequest {
  /** 0 for the first request this receiver got. */
  index: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  rawBody: Buffer;
  /** Date.now() when the body had arrived. */
  receivedAt: number;
}

/** How to answer one request. */
export interface ReceiverReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Answer after this long. */
  delayMs?: number;
  /** Never answer (until `releaseHung()` or close): a receiver that stalls. */
  hang?: boolean;
  /** Cut the connection instead of answering. */
  destroy?: boolean;
}

export type ReceiverScript = (request: ReceivedRequest) => ReceiverReply | Promise<ReceiverReply>;

export interface WebhookReceiverOptions {
  host?: string;
  port?: number;
  /** Keep every request in `requests` (default true; a benchmark turns it off). */
  record?: boolean;
  /** Called with every request once its body arrived. */
  onRequest?: (request: ReceivedRequest) => void;
}

export interface WebhookReceiver {
  /** http://host:port/hook */
  url: string;
  /** http://host:port */
  origin: string;
  port: number;
  /** Every request so far, in arrival order (when recording). */
  readonly requests: ReceivedRequest[];
  /** How many requests arrived (recording or not). */
  readonly count: number;
  /** Answer the next requests with these, in order, before falling back to the default. */
  enqueue(...replies: ReceiverReply[]): void;
  /** The default answer (200 "ok" until set): a reply, or a function of the request. */
  respond(reply: ReceiverReply | ReceiverScript): void;
  /** Resolves once `count` requests arrived in all. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Answers hung requests with 200 now. */
  releaseHung(): void;
  /** Forgets requests and queued replies; the default answer is 200 again. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A real local HTTP server standing in for a webhook receiver: it records each request (headers
 * and raw body) and answers as scripted (statuses, headers such as Retry-After or Location,
 * delays, hangs, cut connections), so tests and benchmarks exercise the real delivery path.
 */
export async function createWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const record = options.record ?? true;
  const requests: ReceivedRequest[] = [];
  const queued: ReceiverReply[] = [];
  const hung = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();
  const waiters = new Set<{ count: number; resolve: () => void }>();
  let fallback: ReceiverReply | ReceiverScript = { status: 200, body: 'ok' };
  let count = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks);
      const request: ReceivedRequest = {
        index: count,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: rawBody.toString('utf8'),
        rawBody,
        receivedAt: Date.now(),
      };
      count += 1;
      if (record) requests.push(request);
      options.onRequest?.(request);
      for (const waiter of waiters) if (count >= waiter.count) waiter.resolve();
      const next = queued.shift() ?? fallback;
      let reply: ReceiverReply;
      try {
        reply = typeof next === 'function' ? await next(request) : next;
      } catch {
        reply = { status: 500, body: 'the test script failed' };
      }
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (reply.destroy) {
        req.socket.destroy();
        return;
      }
      if (reply.hang) {
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      }
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: `${origin}/hook`,
    origin,
    port: address.port,
    requests,
    get count() {
      return count;
    },
    enqueue: (...replies) => {
      queued.push(...replies);
    },
    respond: (reply) => {
      fallback = reply;
    },
    waitFor: (wanted, timeoutMs = 15_000) =>
      new Promise<ReceivedRequest[]>((resolve, reject) => {
        if (count >= wanted) return resolve(requests);
        const waiter = {
          count: wanted,
          resolve: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(requests);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`the webhook receiver got ${count} requests, not ${wanted}, within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      }),
    releaseHung: () => {
      for (const res of hung) {
        res.writeHead(200);
        res.end('ok');
      }
      hung.clear();
    },
    reset: () => {
      requests.length = 0;
      queued.length = 0;
      fallback = { status: 200, body: 'ok' };
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
