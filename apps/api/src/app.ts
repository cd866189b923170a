import { randomBytes } from 'node:crypto';
import { headers } from '@ora/contracts';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger as PinoLogger } from 'pino';
import { errorsPlugin, sendError, toOraError } from './plugins/errors';
import { jsonBodyPlugin } from './plugins/json-body';
import { metricsPlugin } from './plugins/metrics';
import { securityHeadersPlugin } from './plugins/security-headers';
import { actionRoutes } from './routes/actions';
import { adminRoutes } from './routes/admin';
import { agentRoutes } from './routes/agent';
import { docsRoutes } from './routes/docs';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { publicSiteRoutes } from './routes/public-site';
import type { System } from './system';

export interface AppOptions {
  /** false: no request logging at all (benchmark baselines). Default: the system's logger. */
  logging?: boolean;
  validateOutput?: boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Request ids made here: `req_` + 12 random hex digits drawn at start + a counter, unique across
 * processes and restarts for all practical purposes (one random UUID per request cost more than
 * the rest of making the id and the request object together). They identify, they authorise nothing.
 */
const requestIdPrefix = `req_${randomBytes(6).toString('hex')}`;
let requestCounter = 0;
const nextRequestId = () => `${requestIdPrefix}_${(++requestCounter).toString(36)}`;

/** The logger settings every ORA process uses: secrets are redacted wherever they appear. */
export function loggerOptions(level: string) {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.secret',
        'secret',
        '*.password',
        'config.bootstrapKey',
      ],
      censor: '[redacted]',
    },
  };
}

/**
 * `request.log`: the system's logger with the request id bound, made only when a line is written
 * at an enabled level (most requests write none, and a pino child per request was a visible share
 * of the API's CPU). Once made, every call goes to that child.
 */
class RequestLogger {
  #child: PinoLogger | undefined;

  constructor(
    private readonly parent: PinoLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): PinoLogger {
    return this.#real().child(bindings, options);
  }

  // Methods on the prototype, not arrow fields: nothing is allocated per request.
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  #real(): PinoLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  #write(level: Level, args: unknown[]): void {
    const target = this.#child ?? (this.parent.isLevelEnabled(level) ? this.#real() : undefined);
    if (target) (target[level] as (...a: unknown[]) => void)(...args);
  }
}

/** Registers plugins and routes; never listens (server.ts does). Tests use `app.inject()`. */
export async function buildApp(system: System, options: AppOptions = {}): Promise<FastifyInstance> {
  // A request or reply handed to a log line is written as a few fields, never with its headers.
  const requestLog = system.log.child(
    {},
    {
      serializers: {
        req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  );
  const app = Fastify({
    // Fastify gets no logger of its own: with one it hangs two listeners on every response to log
    // its completion. `request.log` is the system's logger with the request id bound (made only
    // when a line is written), and the metrics plugin writes the "request completed" line.
    logger: false,
    ...(options.logging === false
      ? {}
      : {
          childLoggerFactory: (_logger: FastifyBaseLogger, bindings: Bindings, childOptions: ChildLoggerOptions) =>
            new RequestLogger(requestLog, bindings, childOptions) as unknown as FastifyBaseLogger,
        }),
    // Fastify's own per-request lines ("incoming request", "request completed") are off: the
    // metrics plugin writes the completed line.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: system.config.bodyLimitBytes,
    trustProxy: system.config.trustProxy,
    genReqId: (request) => {
      const incoming = request.headers[headers.requestId];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    },
    // A malformed URL or an over-long path parameter is refused before any hook runs: the envelope still applies.
    frameworkErrors: (error, request, reply) => {
      reply.header(headers.requestId, request.id);
      return sendError(request, reply, toOraError(error));
    },
  });

  await app.register(securityHeadersPlugin);
  await app.register(errorsPlugin);
  await app.register(jsonBodyPlugin);
  await app.register(metricsPlugin, { registry: system.metrics, log: system.log });
  await app.register(healthRoutes, { system });
  await app.register(docsRoutes);
  await app.register(actionRoutes, { system, validateOutput: options.validateOutput ?? false });
  await app.register(agentRoutes, { system });
  await app.register(publicSiteRoutes, { system });
  await app.register(eventRoutes, { system });
  await app.register(adminRoutes, { log: system.log });
  return app;
}
