import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { codeToStatus } from '@ora/contracts';
import type { DesktopCore } from '../core/desktop-core';
import { createHandlers, dispatch } from '../core/handlers';
import { buildRenderer } from '../renderer/build';
import { rendererCsp, rendererHtml } from '../renderer/page';

export interface WebModeOptions {
  core: DesktopCore;
  port?: number;
  /** Loopback only by default: the bridge can do anything the desktop can. */
  host?: string;
}

export interface WebModeServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/**
 * Web mode: the renderer in a normal browser against the same core under Node. Serves the page
 * and its two assets, `POST /bridge/call` (the bridge's calls, dispatched to the same handler map
 * Electron's ipcMain uses) and `GET /bridge/events` (the core's events as Server-Sent Events).
 * Bridge requests need the session token that is in the served page (another site cannot read
 * it), and a POST from another origin is refused.
 */
export async function startWebMode(options: WebModeOptions): Promise<WebModeServer> {
  const { core } = options;
  const handlers = createHandlers(core);
  const token = randomBytes(24).toString('base64url');
  const assets = await buildRenderer();
  const html = rendererHtml({ mode: 'web', token });
  const security = {
    'content-security-policy': rendererCsp('web', { header: true }),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
  const tokenOk = (given: string | null | undefined) => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const streams = new Set<http.ServerResponse>();
  const unsubscribe = core.onEvent((event) => {
    const line = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of streams) res.write(line);
  });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, ...security });
      res.end(body);
    };
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      return send(200, 'text/html; charset=utf-8', html);
    }
    if (req.method === 'GET' && url.pathname === '/favicon.ico') {
      res.writeHead(204, security);
      return res.end();
    }
    if (req.method === 'GET' && url.pathname === '/renderer.js')
      return send(200, 'text/javascript; charset=utf-8', assets.js);
    if (req.method === 'GET' && url.pathname === '/renderer.css')
      return send(200, 'text/css; charset=utf-8', assets.css);
    if (req.method === 'GET' && url.pathname === '/bridge/events') {
      if (!tokenOk(url.searchParams.get('token'))) return send(403, 'text/plain', 'bad bridge token');
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/bridge/call') {
      const origin = req.headers.origin;
      if (origin && origin !== `http://${req.headers.host}`) {
        return sendJson(res, 403, {
          ok: false,
          error: { code: 'FORBIDDEN', message: 'Cross-origin bridge call refused' },
        });
      }
      if (!tokenOk(req.headers['x-ora-bridge-token'] as string | undefined)) {
        return sendJson(res, 403, { ok: false, error: { code: 'FORBIDDEN', message: 'Bad bridge token' } });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy();
        else chunks.push(chunk);
      });
      req.on('end', async () => {
        let body: { call?: unknown; input?: unknown };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return sendJson(res, 400, {
            ok: false,
            error: { code: 'VALIDATION_ERROR', message: 'The body is not JSON' },
          });
        }
        const result = await dispatch(handlers, body?.call, body?.input);
        sendJson(res, result.ok ? 200 : codeToStatus(result.error.code), result);
      });
      return;
    }
    send(404, 'text/plain; charset=utf-8', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    token,
    async close() {
      unsubscribe();
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
