import { parseArgs } from 'node:util';
import { Scope } from '@ora/contracts';
import { createKey, generateSecret, listKeys, revokeKey, systemActor, systemClock } from '@ora/core';
import { migrateToLatest, pendingMigrations } from '@ora/db';
import { z } from 'zod';
import { ConfigError, loadConfig } from './env';
import { startServer } from './server';
import { openDatabase } from './system';

const usage = `Usage: pnpm ora <command>

  start                         start ORA (API and worker) and print where it listens
  migrate [--status]            apply pending database migrations (or list them)
  keys create --name N [--scopes a,b] [--agent ID] [--expires ISO] [--per-minute N] [--per-day N]
                                create an API key and print it (shown once)
  keys list                     list keys (never their secrets)
  keys revoke ID [--reason R]   revoke a key
  keys generate                 print a fresh well-formed key, e.g. for ORA_BOOTSTRAP_KEY

Configuration comes from the environment (see the README); DATABASE_URL selects Postgres,
otherwise the embedded PGlite database in ORA_DATA_DIR (./.ora) is used.`;

const say = (line: string) => process.stdout.write(`${line}\n`);

class UsageError extends Error {}

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  process.stderr.write(`Opening ${config.databaseUrl ? 'Postgres' : `PGlite in ${config.dataDir}`}...\n`);
  const database = await openDatabase(config);
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

async function keysCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      agent: { type: 'string' },
      expires: { type: 'string' },
      'per-minute': { type: 'string' },
      'per-day': { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (sub === 'generate') {
    say(generateSecret());
    return;
  }
  const config = loadConfig();
  const defaults = { rateLimitPerMinute: config.limits.perKeyPerMinute, rateLimitPerDay: config.limits.perKeyPerDay };
  if (sub === 'create') {
    if (!values.name) throw new UsageError('keys create needs --name');
    const scopes = values.scopes
      ? values.scopes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : ['*'];
    for (const scope of scopes) {
      if (!Scope.safeParse(scope).success)
        throw new UsageError(`"${scope}" is not a scope: use *, <domain>:read, <domain>:write or <domain>:*`);
    }
    const perMinute = values['per-minute'] ? z.coerce.number().int().positive().parse(values['per-minute']) : undefined;
    const perDay = values['per-day'] ? z.coerce.number().int().positive().parse(values['per-day']) : undefined;
    const created = await withDatabase(async (database) => {
      await migrateToLatest(database.db);
      return createKey(
        { db: database.db, clock: systemClock },
        systemActor,
        {
          name: values.name as string,
          scopes,
          agentId: values.agent ?? null,
          expiresAt: values.expires ? new Date(values.expires).toISOString() : null,
          ...(perMinute ? { rateLimitPerMinute: perMinute } : {}),
          ...(perDay ? { rateLimitPerDay: perDay } : {}),
        },
        defaults,
      );
    });
    if (values.json) say(JSON.stringify(created, null, 2));
    else {
      process.stderr.write(
        `Created key ${created.key.id} "${created.key.name}" with scopes ${created.key.scopes.join(',')}. The secret is shown only now:\n`,
      );
      say(created.secret);
    }
    return;
  }
  if (sub === 'list') {
    const page = await withDatabase((database) =>
      listKeys({ db: database.db }, systemActor, { limit: 200, includeRevoked: true }),
    );
    if (values.json) say(JSON.stringify(page.items, null, 2));
    else {
      for (const key of page.items) {
        const state = key.revokedAt
          ? `revoked ${key.revokedAt}`
          : key.expiresAt
            ? `expires ${key.expiresAt}`
            : 'active';
        say(`${key.id}  ${key.prefix}…  ${key.name}  [${key.scopes.join(',')}]  ${state}  used ${key.totalRequests}×`);
      }
      if (page.items.length === 0) say('No keys yet: `pnpm ora keys create --name NAME` makes one.');
    }
    return;
  }
  if (sub === 'revoke') {
    const id = positionals[0];
    if (!id || !z.uuid().safeParse(id).success)
      throw new UsageError('keys revoke needs the key id (a UUID; `pnpm ora keys list` shows them)');
    const key = await withDatabase((database) =>
      revokeKey({ db: database.db, clock: systemClock }, systemActor, {
        id,
        ...(values.reason ? { reason: values.reason } : {}),
      }),
    );
    say(
      `Revoked ${key.id} (${key.name}). Running servers stop accepting it within 30 s, at once where Redis is configured.`,
    );
    return;
  }
  throw new UsageError(`Unknown keys command "${sub ?? ''}"`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start': {
      await startServer(loadConfig(), { handleSignals: true });
      return;
    }
    case 'migrate': {
      const status = args.includes('--status');
      await withDatabase(async (database) => {
        if (status) {
          const pending = await pendingMigrations(database.db);
          say(pending.length ? `Pending:\n${pending.map((m) => `  ${m}`).join('\n')}` : 'Up to date.');
          return;
        }
        const report = await migrateToLatest(database.db);
        say(
          report.applied.length ? `Applied:\n${report.applied.map((m) => `  ${m}`).join('\n')}` : 'Already up to date.',
        );
      });
      return;
    }
    case 'keys':
      return keysCommand(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      say(usage);
      return;
    default:
      throw new UsageError(`Unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nFix the variables above and start again.\n`);
  } else if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${usage}\n`);
  } else if (error instanceof z.ZodError) {
    process.stderr.write(`Invalid argument: ${error.issues.map((i) => i.message).join('; ')}\n`);
  } else {
    process.stderr.write(`ora: ${(error as Error).message}\n`);
  }
  process.exitCode = 1;
});
