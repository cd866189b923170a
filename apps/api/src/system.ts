import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  Authenticator,
  createFirstKeyIfNone,
  createQueueDriver,
  embedMemories,
  ensureBootstrapKey,
  ensureBuiltinWorkflows,
  ensureDefaultAgents,
  FallbackRateLimiter,
  type JobHandlers,
  type KeyChangeNotifier,
  type KeyDefaults,
  MemoryRateLimiter,
  type QueueDriver,
  type RateLimiter,
  type Resolver,
  SyncedRateLimiter,
  startJobConsumers,
  summarizeConversationJob,
  systemClock,
  type TaskHandlers,
  TaskRuntime,
  type TaskRuntimeOptions,
  UsageRecorder,
} from '@ora/core';
import { createDatabase, migrateToLatest, type OraDatabase } from '@ora/db';
import { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { Registry } from 'prom-client';
import { type AgentsRuntime, createAgentsRuntime } from './agents-runtime';
import type { Config } from './env';
import { createEventsRuntime, type EventsRuntime } from './events-runtime';
import { createMemoryRuntime, type MemoryRuntime } from './memory';
import { createSiteRuntime, type SiteRuntime } from './site';

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
  /** The site: media store, public page cache, analytics salts, the scheduled-publishing timer. */
  site: SiteRuntime;
  /** The queue driver: BullMQ when REDIS_URL is set, else the embedded one in the database. */
  queue: QueueDriver;
  /** Dispatcher, and (where this process runs tasks) the worker and the maintenance loop. */
  tasks: TaskRuntime;
  /** The event log's readers and wake-ups, the webhook dispatcher and delivery client. */
  events: EventsRuntime;
  /** Memory and conversations: embedder, search mode, access recorder, and the deps of their functions. */
  memory: MemoryRuntime;
  /** The agent runtime: LLM providers, what tools use, the built-in task handlers. */
  agents: AgentsRuntime;
  /** Secret of a key created because the database had none; shown once by the caller. */
  firstKeySecret: string | null;
  close(): Promise<void>;
}

export interface SystemOptions {
  /** Run migrations before anything else (the default; `ora start` and tests do). */
  migrate?: boolean;
  /** Create the first key when there is none (only `ora start` does). */
  ensureKeys?: boolean;
  /** Who runs which task type; the agent runtime plugs in here. */
  taskHandlers?: TaskHandlers;
  /** Worker and maintenance in this process; default from the config (ORA_RUN_WORKER). */
  tasks?: TaskRuntimeOptions;
  /** How webhook hosts resolve (tests swap DNS answers); the system resolver by default. */
  webhookResolver?: Resolver;
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

/** The given handlers plus those exported (as `handlers`) by the modules in ORA_TASK_HANDLERS. */
async function loadTaskHandlers(config: Config, base: TaskHandlers): Promise<TaskHandlers> {
  const byType = { ...base.byType };
  for (const modulePath of config.taskHandlerModules) {
    const loaded = (await import(pathToFileURL(modulePath).href)) as { handlers?: TaskHandlers['byType'] };
    if (!loaded.handlers || typeof loaded.handlers !== 'object') {
      throw new Error(`ORA_TASK_HANDLERS: ${modulePath} exports no \`handlers\` object (task type -> handler)`);
    }
    Object.assign(byType, loaded.handlers);
  }
  return { ...base, byType };
}

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
      // Commands fail at once while Redis is away (no offline queue), so the limiter falls back
      // without making requests wait for a reconnect.
      redis = new Redis(config.redisUrl, {
        maxRetriesPerRequest: 1,
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        lazyConnect: true,
      });
      redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
      try {
        await redis.connect();
      } catch (error) {
        redis.disconnect();
        throw new Error(
          `Cannot reach Redis at REDIS_URL (${(error as Error).message}): start Redis, fix REDIS_URL, or unset it to run without Redis`,
          { cause: error },
        );
      }
      const client = redis;
      closers.push(() => client.quit().catch(() => client.disconnect()));
      const subscriber = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
      closers.push(() => subscriber.quit().catch(() => subscriber.disconnect()));
      subscriber.on('error', (err) => log.warn({ err }, 'redis subscriber error'));
      await subscriber.connect();
      const channel = `${config.redisPrefix}keys:changed`;
      await subscriber.subscribe(channel);
      subscriber.on('message', (_channel, keyId: string) => authenticator.forget(keyId));
      // A reconnect may have missed messages: start the cache over.
      subscriber.on('ready', () => authenticator.forgetAll());
      limiter = new FallbackRateLimiter(new SyncedRateLimiter(redis, config.redisPrefix, log), log);
      keyChanges = {
        keyChanged: async (keyId) => {
          authenticator.forget(keyId);
          await client.publish(channel, keyId).catch((err) => log.warn({ err }, 'could not announce a key change'));
        },
      };
    }
    closers.push(() => limiter.close());

    const site = await createSiteRuntime(config, database, log);
    closers.push(() => site.close());

    if (config.bootstrapKey) {
      await ensureBootstrapKey({ db: database.db, clock: systemClock, log }, config.bootstrapKey, keyDefaults);
    }
    const firstKeySecret = options.ensureKeys
      ? await createFirstKeyIfNone({ db: database.db, clock: systemClock }, keyDefaults)
      : null;

    await ensureDefaultAgents(database.db);
    await ensureBuiltinWorkflows(database.db);
    const queue = config.redisUrl
      ? createQueueDriver({ kind: 'bullmq', redisUrl: config.redisUrl, prefix: config.redisPrefix, log })
      : createQueueDriver({ kind: 'embedded', db: database.db, log });
    closers.push(() => queue.close());
    const events = await createEventsRuntime(
      config,
      { db: database.db, redis, queue, log },
      options.webhookResolver ? { resolve: options.webhookResolver } : {},
    );
    closers.push(() => events.close());
    const memory = await createMemoryRuntime(config, database, queue, log);
    closers.push(() => memory.close());
    // The built-in handlers (agent runtime, publish_post), with the ones given (tests) over them.
    const agents = createAgentsRuntime(config, { database, log, site, memory });
    const handlers = await loadTaskHandlers(config, {
      byType: { ...agents.handlers.byType, ...options.taskHandlers?.byType },
      agent: options.taskHandlers?.agent ?? agents.handlers.agent,
    });
    const tasks = new TaskRuntime(
      { db: database.db, queue, clock: systemClock, log, handlers, memory: memory.services },
      options.tasks ??
        (config.runWorker
          ? {
              worker: { concurrency: config.workerConcurrency, leaseMs: config.taskLeaseMs },
              maintenance: { staleQueuedMs: config.taskStaleMs },
            }
          : { worker: false, maintenanceIntervalMs: false }),
    );
    agents.bindDispatch(tasks.dispatcher);
    tasks.start();
    closers.push(() => tasks.stop(config.shutdownDeadlineMs));

    // Every job of the catalogue other than task execution, with its handler (one line per domain).
    const jobHandlers: JobHandlers = {
      'webhook.deliver': (payload, _job, signal) => events.deliverer.deliverAll(payload.deliveryIds, signal),
      'memory.embed': async (payload, _job, signal) => {
        await embedMemories(memory.deps, payload.memoryIds, signal);
      },
      'conversation.summarize': (payload) => summarizeConversationJob(memory.deps, payload.conversationId),
    };
    if (tasks.worker) {
      const consumers = startJobConsumers(queue, jobHandlers, {
        concurrency: config.workerConcurrency,
        concurrencyByQueue: { webhooks: config.webhooks.concurrency },
      });
      closers.push(() => consumers.close(config.shutdownDeadlineMs));
    }

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
      site,
      queue,
      tasks,
      events,
      memory,
      agents,
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
