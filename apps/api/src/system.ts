import path from 'node:path';
import {
  Authenticator,
  createFirstKeyIfNone,
  ensureBootstrapKey,
  FallbackRateLimiter,
  type KeyChangeNotifier,
  type KeyDefaults,
  MemoryRateLimiter,
  type RateLimiter,
  RedisRateLimiter,
  systemClock,
  UsageRecorder,
} from '@ora/core';
import { createDatabase, migrateToLatest, type OraDatabase } from '@ora/db';
import { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { Registry } from 'prom-client';
import type { Config } from './env';

/** Everything a running ORA holds: made once at start, passed down explicitly, closed at stop. */
export interface System {
  config: Config;
  log: PinoLogger;
  database: OraDatabase;
  redis: Redis | null;
  limiter: RateLimiter;
  authenticator: Authenticator;
  usage: UsageRecorder;
  keyChanges: KeyChangeNotifier;
  keyDefaults: KeyDefaults;
  metrics: Registry;
  /** Secret of a key created because the database had none; shown once by the caller. */
  firstKeySecret: string | null;
  close(): Promise<void>;
}

export interface SystemOptions {
  /** Run migrations before anything else (the default; `ora start` and tests do). */
  migrate?: boolean;
  /** Create the first key when there is none (only `ora start` does). */
  ensureKeys?: boolean;
}

/** Postgres at DATABASE_URL, else PGlite in ORA_DATA_DIR (`memory://` keeps nothing, for tests). */
export async function openDatabase(config: Config): Promise<OraDatabase> {
  if (config.databaseUrl) {
    return createDatabase({ kind: 'postgres', url: config.databaseUrl, poolSize: config.dbPoolSize });
  }
  return config.dataDir === IN_MEMORY
    ? createDatabase({ kind: 'pglite' })
    : createDatabase({ kind: 'pglite', dataDir: path.join(config.dataDir, 'pgdata') });
}

export const IN_MEMORY = 'memory://';

export async function createSystem(config: Config, log: PinoLogger, options: SystemOptions = {}): Promise<System> {
  const database = await openDatabase(config);
  const closers: Array<() => Promise<unknown>> = [() => database.close()];
  try {
    if (options.migrate !== false) await migrateToLatest(database.db);
    await database.refreshCapabilities();

    const keyDefaults = {
      rateLimitPerMinute: config.limits.perKeyPerMinute,
      rateLimitPerDay: config.limits.perKeyPerDay,
    };
    const authenticator = new Authenticator({ db: database.db, clock: systemClock });

    let redis: Redis | null = null;
    let limiter: RateLimiter = new MemoryRateLimiter();
    let keyChanges: KeyChangeNotifier = {
      keyChanged: async (keyId) => authenticator.forget(keyId),
    };
    if (config.redisUrl) {
      // Requests fail fast instead of queueing while Redis is away; the limiter falls back.
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: true });
      redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
      await redis.connect();
      const subscriber = redis.duplicate({ maxRetriesPerRequest: null });
      subscriber.on('error', (err) => log.warn({ err }, 'redis subscriber error'));
      const channel = `${config.redisPrefix}keys:changed`;
      await subscriber.subscribe(channel);
      subscriber.on('message', (_channel, keyId: string) => authenticator.forget(keyId));
      // A reconnect may have missed messages: start the cache over.
      subscriber.on('ready', () => authenticator.forgetAll());
      const client = redis;
      closers.push(
        () => client.quit().catch(() => undefined),
        () => subscriber.quit().catch(() => undefined),
      );
      limiter = new FallbackRateLimiter(new RedisRateLimiter(redis, config.redisPrefix), log);
      keyChanges = {
        keyChanged: async (keyId) => {
          authenticator.forget(keyId);
          await client.publish(channel, keyId).catch((err) => log.warn({ err }, 'could not announce a key change'));
        },
      };
    }
    closers.push(() => limiter.close());

    if (config.bootstrapKey) {
      await ensureBootstrapKey({ db: database.db, clock: systemClock, log }, config.bootstrapKey, keyDefaults);
    }
    const firstKeySecret = options.ensureKeys
      ? await createFirstKeyIfNone({ db: database.db, clock: systemClock }, keyDefaults)
      : null;

    const usage = new UsageRecorder(database.db, log);
    usage.start();

    return {
      config,
      log,
      database,
      redis,
      limiter,
      authenticator,
      usage,
      keyChanges,
      keyDefaults,
      metrics: new Registry(),
      firstKeySecret,
      async close() {
        await usage.stop();
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}
