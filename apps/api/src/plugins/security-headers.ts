import { headers } from '@ora/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

/** Runs helmet once against a recording response: the headers it would set on every page. */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const recorded: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: unknown) {
      recorded[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete recorded[name.toLowerCase()];
    },
    getHeader(name: string) {
      return recorded[name.toLowerCase()];
    },
  };
  helmet(options)({} as never, response as never, () => {});
  return recorded;
}

/** What JSON answers of the action API need of those: no sniffing, no framing, no caching. */
const API_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * Security headers and the request id, set by one synchronous hook from objects computed at start
 * (helmet's own per-request work was a sixth of the API's CPU). Pages (docs, the public site) get
 * helmet's full set, with a CSP that allows inline styles and no inline scripts; `/api/` answers a
 * short JSON set.
 */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance) => {
    const pageHeaders = helmetHeaders({
      contentSecurityPolicy: {
        directives: { 'default-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"], 'script-src': ["'self'"] },
      },
    });
    app.decorateRequest('oraStartedAt', 0);
    // The first hook of every request: it also notes when the request arrived, for the latency
    // the metrics plugin observes (one hook instead of two on the hot path).
    app.addHook('onRequest', (request, reply, done) => {
      request.oraStartedAt = performance.now();
      reply.headers(request.url.startsWith('/api/') ? API_HEADERS : pageHeaders);
      reply.header(headers.requestId, request.id);
      done();
    });
  },
  { name: 'ora-security-headers' },
);
