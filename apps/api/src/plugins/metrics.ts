import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram';

declare module 'fastify' {
  interface FastifyRequest {
    /** The action name, once known, for metrics and logs. */
    oraAction?: string;
    /** performance.now() when the request arrived (set by the security-headers hook, the first). */
    oraStartedAt: number;
  }
}

/** Request latency by action (or route) and status, plus process metrics, at GET /metrics. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: { registry: Registry; log: { isLevelEnabled(level: string): boolean } }) => {
    const registry = options.registry;
    collectDefaultMetrics({ register: registry, prefix: 'ora_' });
    const latency = new LatencyHistogram(
      'ora_http_request_duration_seconds',
      'HTTP request latency by action (or route) and status',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    latency.register(registry);
    app.decorateRequest('oraAction', undefined);
    // Timed when the answer is ready to be written (onSend), not when it has been (onResponse):
    // that needs listeners on every response, a visible cost for a figure that differs by the
    // socket write alone.
    app.addHook('onSend', (request, reply, payload, done) => {
      const action = request.oraAction ?? `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
      const ms = performance.now() - request.oraStartedAt;
      latency.series(action, reply.statusCode).observe(ms / 1000);
      if (options.log.isLevelEnabled('info')) {
        request.log.info(
          { method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: ms },
          'request completed',
        );
      }
      done(null, payload);
    });
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'ora-metrics' },
);
