import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp, loggerOptions } from './app';
import type { Config } from './env';
import { createSystem, type System } from './system';

export interface RunningServer {
  app: FastifyInstance;
  system: System;
  url: string;
  close(): Promise<void>;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Opens the database (migrating it), listens, and prints where; `close()` stops in order. */
export async function startServer(config: Config, options: { handleSignals?: boolean } = {}): Promise<RunningServer> {
  const started = Date.now();
  const log = pino(loggerOptions(config.logLevel));
  const mode = config.databaseUrl
    ? `distributed: Postgres${config.redisUrl ? ' + Redis' : ''}`
    : `embedded: PGlite in ${config.dataDir}`;
  say(`ORA starting (${mode})...`);
  const system = await createSystem(config, log, { migrate: true, ensureKeys: true });
  const app = await buildApp(system);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await system.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `Port ${config.port} on ${config.host} is in use: stop the other process or set PORT to a free port`,
      );
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  // One write: whoever waits for the ready line (a script, a test) gets the first key with it.
  const lines = [
    `ORA is ready at ${url} after ${Date.now() - started} ms (vector search: ${system.database.capabilities.vector ? 'on' : 'off'})`,
    `  API:  POST ${url}/api/ora    docs: ${url}/docs    health: ${url}/readyz`,
  ];
  if (system.firstKeySecret) {
    lines.push(
      '',
      'First start: created a full-access API key. It is shown only now; store it somewhere safe:',
      `  ${system.firstKeySecret}`,
      'Try it:',
      `  curl -s ${url}/api/ora -H "Authorization: Bearer ${system.firstKeySecret}" -d '{"action":"keys.list"}'`,
      '',
    );
  }
  say(lines.join('\n'));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await system.close();
    })();
    return closing;
  };

  if (options.handleSignals) {
    const onSignal = (signal: string) => {
      say(`${signal}: shutting down (finishing requests in flight)...`);
      const deadline = setTimeout(() => {
        log.error('shutdown took over 10 s; exiting anyway');
        process.exit(1);
      }, 10_000);
      deadline.unref();
      close().then(
        () => process.exit(0),
        (error) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  return { app, system, url, close };
}
