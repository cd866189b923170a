import path from 'node:path';
import { isWellFormedSecret, type SyncSettings } from '@ora/core';
import { z } from 'zod';
import { checkMemoryEnv, type MemoryConfig, memoryConfig, memoryEnv } from './memory-config';
import { type ModelsConfig, modelsConfig, modelsEnv } from './models-config';
import { syncConfig, syncEnv } from './sync-config';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z
    .url()
    .refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), `must start with ${protocols.join(':// or ')}://`);

const EnvSchema = z.object({
  PORT: int(0, 65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  ORA_DATA_DIR: z.string().min(1).default('./.ora'),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  ORA_DB_POOL_SIZE: int(1, 500).default(10),
  REDIS_URL: url(['redis', 'rediss']).optional(),
  ORA_REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]*$/)
    .default('ora:'),
  ORA_BOOTSTRAP_KEY: z
    .string()
    .refine(
      isWellFormedSecret,
      'must be an ORA key (ora_sk_ + 38 characters with a valid checksum); make one with `pnpm ora keys generate`',
    )
    .optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: url(['http', 'https']).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: url(['http', 'https']).optional(),
  ORA_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  // Webhook delivery and the live event stream: see apps/api/src/events-runtime.ts.
  ORA_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  ORA_WEBHOOK_CONCURRENCY: int(1, 10_000).default(32),
  ORA_WEBHOOK_MAX_RESPONSE_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  ORA_WEBHOOK_DISABLE_AFTER_FAILURES: int(1, 1_000_000).default(20),
  ORA_WEBHOOK_DISABLE_AFTER_SECONDS: int(0, 365 * 24 * 3600).default(24 * 3600),
  ORA_EVENTS_POLL_MS: int(10, 60_000).default(250),
  ORA_EVENTS_HEARTBEAT_MS: int(100, 300_000).default(15_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ORA_TRUST_PROXY: bool.default(false),
  ORA_BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  ORA_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000_000).default(60),
  ORA_RATE_LIMIT_PER_DAY: int(1, 1_000_000_000).default(10_000),
  ORA_RATE_LIMIT_GLOBAL_PER_MINUTE: int(1, 1_000_000_000).default(20_000),
  ORA_RATE_LIMIT_SYNC_PER_MINUTE: int(1, 1_000_000_000).default(120),
  ORA_RUN_WORKER: bool.optional(),
  ORA_WORKER_CONCURRENCY: int(1, 1000).default(10),
  ORA_WORKER_PORT: int(0, 65535).default(8788),
  ORA_TASK_LEASE_MS: int(1000, 3_600_000).default(30_000),
  ORA_TASK_STALE_MS: int(500, 3_600_000).default(30_000),
  ORA_TASK_HANDLERS: z.string().optional(),
  ORA_SHUTDOWN_DEADLINE_MS: int(0, 600_000).default(10_000),
  // The site (posts, media, leads, analytics): see apps/api/src/site.ts.
  ORA_MEDIA_DIR: z.string().min(1).optional(),
  ORA_MEDIA_MAX_BYTES: int(1, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  ORA_MEDIA_ALLOWED_TYPES: z
    .string()
    .regex(
      /^[\w.+-]+\/[\w.+-]+(\s*,\s*[\w.+-]+\/[\w.+-]+)*$/,
      'a comma-separated list of types, e.g. image/png,image/jpeg',
    )
    .default('image/png,image/jpeg,image/gif,image/webp,image/avif'),
  ORA_SITE_PUBLISH_INTERVAL_MS: int(0, 24 * 3600 * 1000).default(15_000),
  ORA_SITE_CACHE_TTL_MS: int(0, 3600 * 1000).default(5_000),
  ORA_SITE_MAX_AGE_SECONDS: int(0, 365 * 24 * 3600).default(60),
  ORA_PUBLIC_LEADS_PER_MINUTE: int(1, 1_000_000).default(5),
  ORA_PUBLIC_COLLECT_PER_MINUTE: int(1, 1_000_000).default(120),
  // Memory, embeddings and conversations: see apps/api/src/memory-config.ts.
  ...memoryEnv,
  // Models and providers of the agent runtime: see apps/api/src/models-config.ts.
  ...modelsEnv,
  // Sync: conflict strategies per memory type, push batch size, pull horizon wait (sync-config.ts).
  ...syncEnv,
});

export type Env = z.infer<typeof EnvSchema>;

/** Everything the API and worker are configured by, parsed once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  dbPoolSize: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  bootstrapKey: string | undefined;
  providers: {
    openaiApiKey: string | undefined;
    openaiBaseUrl: string | undefined;
    anthropicApiKey: string | undefined;
    anthropicBaseUrl: string | undefined;
  };
  webhookAllowPrivate: boolean;
  webhooks: {
    /** One attempt (lookup, connect, request, response) must end within this. */
    timeoutMs: number;
    /** `webhook.deliver` jobs at once per worker process (a job carries up to 50 deliveries of a burst). */
    concurrency: number;
    /** Of a receiver's answer, read at most this much. */
    maxResponseBytes: number;
    /** Disable a webhook after this many failed attempts in a row... */
    disableAfterFailures: number;
    /** ...spanning at least this long. */
    disableAfterSeconds: number;
  };
  events: {
    /** How often each process reads the event log for new events (wake-ups make it sooner). */
    pollMs: number;
    /** Comment lines on idle live streams, so proxies keep them open. */
    heartbeatMs: number;
  };
  logLevel: Env['LOG_LEVEL'];
  trustProxy: boolean;
  bodyLimitBytes: number;
  /** Run tasks in this process: by default yes in the embedded mode, no when Redis carries the queue. */
  runWorker: boolean;
  workerConcurrency: number;
  /** Where a separate worker serves /healthz and /metrics (0: a free port). */
  workerPort: number;
  /** A running task's lease: a worker that stops renewing it (killed) loses the task after this. */
  taskLeaseMs: number;
  /** A queued task nobody claimed for this long is put on the queue again (its job may be lost). */
  taskStaleMs: number;
  /** Modules whose exported `handlers` (task type -> handler) are added to the built-in ones. */
  taskHandlerModules: string[];
  /** How long running tasks get to finish at shutdown before they are released. */
  shutdownDeadlineMs: number;
  limits: {
    perKeyPerMinute: number;
    perKeyPerDay: number;
    globalPerMinute: number;
    syncPerMinute: number;
  };
  site: {
    /** Local media directory; null: ORA_DATA_DIR/media (a temporary one for memory://). */
    mediaDir: string | null;
    mediaMaxBytes: number;
    mediaAllowedTypes: string[];
    /** How often scheduled posts are published when due; 0 turns the timer off. */
    publishIntervalMs: number;
    /** How long this process reuses a rendered public page (0: never). */
    cacheTtlMs: number;
    /** Cache-Control max-age of public pages. */
    maxAgeSeconds: number;
    leadsPerMinute: number;
    collectPerMinute: number;
  };
  /** Memory: embeddings provider, scoring weights, encryption, sync exclusions, limits. */
  memory: MemoryConfig;
  /** Agents' models: the default and images model, prices, timeouts and retries of provider calls. */
  models: ModelsConfig;
  /** Sync: conflict strategy per memory type, push batch size, how long a pull waits for its horizon. */
  sync: SyncSettings;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment (or the object given, in tests). A bad value names its variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable counts as unset, as shells and compose files often leave them.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.superRefine(checkMemoryEnv).safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        const value = name.includes('KEY') || name.includes('URL') ? '' : ` (got "${present[name] ?? ''}")`;
        return `${name}: ${issue.message}${value}`;
      }),
    );
  }
  const env = parsed.data;
  return {
    port: env.PORT,
    host: env.HOST,
    dataDir: env.ORA_DATA_DIR === 'memory://' ? env.ORA_DATA_DIR : path.resolve(env.ORA_DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    dbPoolSize: env.ORA_DB_POOL_SIZE,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.ORA_REDIS_PREFIX,
    bootstrapKey: env.ORA_BOOTSTRAP_KEY,
    providers: {
      openaiApiKey: env.OPENAI_API_KEY,
      openaiBaseUrl: env.OPENAI_BASE_URL,
      anthropicApiKey: env.ANTHROPIC_API_KEY,
      anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
    },
    webhookAllowPrivate: env.ORA_WEBHOOK_ALLOW_PRIVATE,
    webhooks: {
      timeoutMs: env.ORA_WEBHOOK_TIMEOUT_MS,
      concurrency: env.ORA_WEBHOOK_CONCURRENCY,
      maxResponseBytes: env.ORA_WEBHOOK_MAX_RESPONSE_BYTES,
      disableAfterFailures: env.ORA_WEBHOOK_DISABLE_AFTER_FAILURES,
      disableAfterSeconds: env.ORA_WEBHOOK_DISABLE_AFTER_SECONDS,
    },
    events: { pollMs: env.ORA_EVENTS_POLL_MS, heartbeatMs: env.ORA_EVENTS_HEARTBEAT_MS },
    logLevel: env.LOG_LEVEL,
    trustProxy: env.ORA_TRUST_PROXY,
    bodyLimitBytes: env.ORA_BODY_LIMIT_BYTES,
    runWorker: env.ORA_RUN_WORKER ?? !env.REDIS_URL,
    workerConcurrency: env.ORA_WORKER_CONCURRENCY,
    workerPort: env.ORA_WORKER_PORT,
    taskLeaseMs: env.ORA_TASK_LEASE_MS,
    taskStaleMs: env.ORA_TASK_STALE_MS,
    taskHandlerModules: (env.ORA_TASK_HANDLERS ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .map((m) => path.resolve(m)),
    shutdownDeadlineMs: env.ORA_SHUTDOWN_DEADLINE_MS,
    limits: {
      perKeyPerMinute: env.ORA_RATE_LIMIT_PER_MINUTE,
      perKeyPerDay: env.ORA_RATE_LIMIT_PER_DAY,
      globalPerMinute: env.ORA_RATE_LIMIT_GLOBAL_PER_MINUTE,
      syncPerMinute: env.ORA_RATE_LIMIT_SYNC_PER_MINUTE,
    },
    site: {
      mediaDir: env.ORA_MEDIA_DIR ? path.resolve(env.ORA_MEDIA_DIR) : null,
      mediaMaxBytes: env.ORA_MEDIA_MAX_BYTES,
      mediaAllowedTypes: env.ORA_MEDIA_ALLOWED_TYPES.split(',').map((t) => t.trim().toLowerCase()),
      publishIntervalMs: env.ORA_SITE_PUBLISH_INTERVAL_MS,
      cacheTtlMs: env.ORA_SITE_CACHE_TTL_MS,
      maxAgeSeconds: env.ORA_SITE_MAX_AGE_SECONDS,
      leadsPerMinute: env.ORA_PUBLIC_LEADS_PER_MINUTE,
      collectPerMinute: env.ORA_PUBLIC_COLLECT_PER_MINUTE,
    },
    memory: memoryConfig(env),
    models: modelsConfig(env),
    sync: syncConfig(env),
  };
}
