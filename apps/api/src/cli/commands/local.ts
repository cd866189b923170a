import { type ActionOutput, type ApiKey, Scope } from '@ora/contracts';
import type { OraDatabase } from '@ora/db';
import type { Command, CommandContext } from '../command';
import { UsageError } from '../io';

// The server, core and database modules load only for the commands that use them: every other
// command is an HTTP client and starts much faster without them.
const server = () => import('../../server');
const core = () => import('@ora/core');
const db = () => import('@ora/db');
const env = () => import('../../env');

/** Runs `work` on this machine's database (DATABASE_URL, else PGlite in ORA_DATA_DIR), then closes it. */
export async function withDatabase<T>(ctx: CommandContext, work: (database: OraDatabase) => Promise<T>): Promise<T> {
  const { loadConfig } = await env();
  const { openDatabase } = await import('../../system');
  const config = loadConfig(ctx.io.env);
  ctx.note(`Opening ${config.databaseUrl ? 'Postgres (DATABASE_URL)' : `PGlite in ${config.dataDir}`}...`);
  const database = await openDatabase(config);
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

/** What `keys create` asks for, from its flags, whichever way it then goes (database or API). */
export interface KeyRequest {
  name: string;
  scopes: string[];
  agentId: string | null;
  expiresAt: string | null;
  rateLimitPerMinute?: number;
  rateLimitPerDay?: number;
}

export function keyRequest(ctx: CommandContext): KeyRequest {
  const value = (name: string) => (typeof ctx.values[name] === 'string' ? (ctx.values[name] as string) : undefined);
  const name = value('name');
  if (!name) throw new UsageError('keys create needs --name', 'keys create');
  const scopes = value('scopes')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? ['*'];
  for (const scope of scopes) {
    if (!Scope.safeParse(scope).success) {
      throw new UsageError(
        `"${scope}" is not a scope: use *, <domain>:read, <domain>:write or <domain>:*`,
        'keys create',
      );
    }
  }
  const positive = (flag: string) => {
    const raw = value(flag);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} takes a whole number above 0; got "${raw}"`);
    return n;
  };
  const expires = value('expires');
  if (expires !== undefined && Number.isNaN(new Date(expires).getTime())) {
    throw new UsageError(`--expires takes a time (ISO 8601); got "${expires}"`, 'keys create');
  }
  const perMinute = positive('per-minute');
  const perDay = positive('per-day');
  return {
    name,
    scopes,
    agentId: value('agent') ?? null,
    expiresAt: expires ? new Date(expires).toISOString() : null,
    ...(perMinute ? { rateLimitPerMinute: perMinute } : {}),
    ...(perDay ? { rateLimitPerDay: perDay } : {}),
  };
}

export async function createKeyLocally(ctx: CommandContext, request: KeyRequest): Promise<ActionOutput<'keys.create'>> {
  const { loadConfig } = await env();
  const { createKey, systemActor, systemClock } = await core();
  const { migrateToLatest } = await db();
  const config = loadConfig(ctx.io.env);
  const defaults = { rateLimitPerMinute: config.limits.perKeyPerMinute, rateLimitPerDay: config.limits.perKeyPerDay };
  return withDatabase(ctx, async (database) => {
    await migrateToLatest(database.db);
    return createKey({ db: database.db, clock: systemClock }, systemActor, request, defaults);
  });
}

export async function listKeysLocally(ctx: CommandContext): Promise<ApiKey[]> {
  const { listKeys, systemActor } = await core();
  const page = await withDatabase(ctx, (database) =>
    listKeys({ db: database.db }, systemActor, { limit: 200, includeRevoked: true }),
  );
  return page.items;
}

export async function revokeKeyLocally(ctx: CommandContext, id: string, reason: string | undefined): Promise<ApiKey> {
  const { revokeKey, systemActor, systemClock } = await core();
  return withDatabase(ctx, (database) =>
    revokeKey({ db: database.db, clock: systemClock }, systemActor, { id, ...(reason ? { reason } : {}) }),
  );
}

const start: Command = {
  name: 'start',
  group: 'Server and keys (this machine)',
  summary: 'Start ORA (API and worker) and print where it listens',
  details:
    'Configured by the environment (see the README): DATABASE_URL selects Postgres, else PGlite in ORA_DATA_DIR.',
  async run(ctx) {
    const [{ startServer }, { loadConfig }] = await Promise.all([server(), env()]);
    await startServer(loadConfig(ctx.io.env), { handleSignals: true });
  },
};

const migrate: Command = {
  name: 'migrate',
  group: 'Server and keys (this machine)',
  summary: 'Apply pending database migrations (--status lists them)',
  usage: '[--status]',
  options: { status: { type: 'boolean', description: 'Only list the pending migrations' } },
  async run(ctx) {
    const { migrateToLatest, pendingMigrations } = await db();
    await withDatabase(ctx, async (database) => {
      if (ctx.values.status) {
        const pending = await pendingMigrations(database.db);
        ctx.out(pending.length ? `Pending:\n${pending.map((m) => `  ${m}`).join('\n')}` : 'Up to date.');
        return;
      }
      const report = await migrateToLatest(database.db);
      ctx.out(
        report.applied.length ? `Applied:\n${report.applied.map((m) => `  ${m}`).join('\n')}` : 'Already up to date.',
      );
    });
  },
};

const keysGenerate: Command = {
  name: 'keys generate',
  group: 'Server and keys (this machine)',
  summary: 'Print a fresh well-formed key without touching any database (for ORA_BOOTSTRAP_KEY)',
  async run(ctx) {
    const { generateSecret } = await core();
    ctx.out(generateSecret());
  },
};

export const localCommands: Command[] = [start, migrate, keysGenerate];
