import { pendingMigrations } from '@ora/db';
import type { FastifyInstance } from 'fastify';
import type { System } from '../system';

interface Check {
  ok: boolean;
  [detail: string]: unknown;
}

async function timed<T>(work: () => Promise<T>, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(work: () => Promise<Record<string, unknown>>): Promise<Check> {
  try {
    return { ok: true, ...(await timed(work)) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export async function healthRoutes(app: FastifyInstance, options: { system: System }): Promise<void> {
  const { system } = options;

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const database = await check(async () => {
      await system.database.ping();
      const pending = await pendingMigrations(system.database.db);
      if (pending.length > 0) throw new Error(`${pending.length} migrations pending; run \`pnpm ora migrate\``);
      return { kind: system.database.kind };
    });
    const redis = system.redis;
    const queue = redis
      ? await check(async () => {
          await redis.ping();
          let policy: string;
          try {
            [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
          } catch {
            // Managed Redis often forbids CONFIG; the operator has to vouch for the policy there.
            return { driver: 'redis', maxmemoryPolicy: 'unknown (CONFIG not permitted; it must be noeviction)' };
          }
          if (policy !== 'noeviction') {
            throw new Error(
              `Redis maxmemory-policy is "${policy}"; set it to "noeviction" or queued jobs can be evicted`,
            );
          }
          return { driver: 'redis', maxmemoryPolicy: policy };
        })
      : { ok: true, driver: 'embedded' };
    const checks = { database, queue };
    const ready = Object.values(checks).every((c) => c.ok);
    reply.code(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'unavailable',
      checks,
      capabilities: { vector: system.database.capabilities.vector, database: system.database.kind },
    };
  });
}
