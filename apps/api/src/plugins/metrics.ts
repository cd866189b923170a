import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Histogram, type Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyRequest {
    /** The action name, once known, for metrics and logs. */
    oraAction?: string;
    /** performance.now() when the request arrived. */
    oraStartedAt: number;
  }
}

/** Request latency by action (or route) and status, plus process metrics, at GET /metrics. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: { registry: Registry }) => {
    const registry = options.registry;
    collectDefaultMetrics({ register: registry, prefix: 'ora_' });
    const latency = new Histogram({
      name: 'ora_http_request_duration_seconds',
      help: 'HTTP request latency by action (or route) and status',
      labelNames: ['action', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    // One bound child per (action, status), found by a string key: prom-client's own label
    // checking and hashing ran on every request otherwise. Actions, route patterns and statuses
    // are few, so the map stays small.
    const observers = new Map<string, { observe(value: number): void }>();
    app.decorateRequest('oraAction', undefined);
    app.decorateRequest('oraStartedAt', 0);
    app.addHook('onRequest', (request, _reply, done) => {
      request.oraStartedAt = performance.now();
      done();
    });
    // Timed when the answer is ready to be written (onSend), not when it has been (onResponse):
    // that needs listeners on every response, a visible cost for a figure that differs by the
    // socket write alone.
    app.addHook('onSend', (request, reply, payload, done) => {
      const action = request.oraAction ?? `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
      const key = `${reply.statusCode} ${action}`;
      let observer = observers.get(key);
      if (!observer) {
        observer = latency.labels({ action, status: String(reply.statusCode) });
        observers.set(key, observer);
      }
      const ms = performance.now() - request.oraStartedAt;
      observer.observe(ms / 1000);
      request.log.info(
        { method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: ms },
        'request completed',
      );
      done(null, payload);
    });
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'ora-metrics' },
);
