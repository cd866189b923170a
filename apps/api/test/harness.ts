import { generateSecret, type Resolver, type TaskHandlers, type TaskRuntimeOptions } from '@ora/core';
import { createTestPostgres, createTestRedisPrefix, servicesAvailable } from '@ora/testkit';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../src/app';
import { type Config, loadConfig } from '../src/env';
import { createSystem, type System } from '../src/system';

export type Mode = 'embedded' | 'distributed';

/** Embedded always; distributed (real Postgres + Redis) when they answer, and always in CI. */
export async function availableModes(): Promise<Mode[]> {
  return (await servicesAvailable()) ? ['embedded', 'distributed'] : ['embedded'];
}

export interface TestServer {
  mode: Mode;
  config: Config;
  system: System;
  app: FastifyInstance;
  /** A full-access key created for the suite. */
  rootKey: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** Task handlers the in-process worker runs (plain code standing in for agents). */
  taskHandlers?: TaskHandlers;
  /** Worker and maintenance settings; by default a test server runs no worker. */
  tasks?: TaskRuntimeOptions;
  /** Share another server's database and Redis (a second replica). */
  sameBackendAs?: TestServer;
  /** How webhook hosts resolve (DNS answers a test can change). */
  webhookResolver?: Resolver;
}

/** An ORA on its own database (PGlite in memory, or a fresh Postgres database and Redis prefix). */
export async function startTestServer(mode: Mode, options: TestServerOptions = {}): Promise<TestServer> {
  const cleanups: Array<() => Promise<void>> = [];
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.ORA_TEST_LOG_LEVEL ?? 'silent',
    // Suites call far more than a person would; the rate-limit tests make keys with their own limits.
    ORA_RATE_LIMIT_PER_MINUTE: '1000000',
    ...options.env,
  };
  if (options.sameBackendAs) {
    const base = options.sameBackendAs.config;
    if (base.databaseUrl) env.DATABASE_URL = base.databaseUrl;
    if (base.redisUrl) env.REDIS_URL = base.redisUrl;
    env.ORA_REDIS_PREFIX = base.redisPrefix;
    if (mode === 'embedded') throw new Error('an embedded server cannot share its in-memory database');
  } else if (mode === 'distributed') {
    const database = await createTestPostgres('api');
    const redis = createTestRedisPrefix('api');
    env.DATABASE_URL = database.url;
    env.REDIS_URL = 'redis://127.0.0.1:6379';
    env.ORA_REDIS_PREFIX = redis.prefix;
    cleanups.push(
      () => database.drop(),
      () => redis.clear(),
    );
  } else {
    env.ORA_DATA_DIR ??= 'memory://';
  }
  env.ORA_BOOTSTRAP_KEY ??= options.sameBackendAs?.rootKey ?? generateSecret();
  const config = loadConfig(env);
  const system = await createSystem(config, pino({ level: config.logLevel }), {
    taskHandlers: options.taskHandlers ?? { byType: {} },
    tasks: options.tasks ?? { worker: false, maintenanceIntervalMs: false },
    ...(options.webhookResolver ? { webhookResolver: options.webhookResolver } : {}),
  });
  const app = await buildApp(system, { validateOutput: true });
  await app.ready();
  return {
    mode,
    config,
    system,
    app,
    rootKey: env.ORA_BOOTSTRAP_KEY,
    async close() {
      await app.close();
      await system.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

export interface CallResult<T = any> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
}

/** Calls an action through the real HTTP stack (Fastify inject), as any client would. */
export async function call<T = any>(
  server: TestServer,
  key: string | null,
  action: string,
  data?: unknown,
  extra: { headers?: Record<string, string>; remoteAddress?: string } = {},
): Promise<CallResult<T>> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/ora',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...extra.headers,
    },
    ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
    payload: JSON.stringify({ action, ...(data === undefined ? {} : { data }) }),
  });
  return { status: response.statusCode, headers: response.headers, body: response.json() };
}
