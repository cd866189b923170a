import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const TEST_POSTGRES_URL = process.env.ORA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.ORA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether the real Postgres and Redis answer. With ORA_TEST_SERVICES=required (as in CI) a missing
 * service is an error, so a suite can never pass by skipping them.
 */
export async function servicesAvailable(): Promise<boolean> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    problems.push(`Postgres at ${TEST_POSTGRES_URL}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    problems.push(`Redis at ${TEST_REDIS_URL}: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
  if (problems.length === 0) return true;
  if (process.env.ORA_TEST_SERVICES === 'required') {
    throw new Error(
      `Required test services are down:\n  ${problems.join('\n  ')}\nStart them (see .ci/run) and run the tests again.`,
    );
  }
  return false;
}

export interface TestPostgres {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty Postgres database of its own for one suite; `drop()` removes it. */
export async function createTestPostgres(label = 'suite'): Promise<TestPostgres> {
  const name = `ora_test_${label.replace(/\W/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Redis key prefix of its own for one suite; `clear()` deletes every key under it. */
export function createTestRedisPrefix(label = 'suite'): { prefix: string; clear(): Promise<void> } {
  const prefix = `ora_test:${label}:${randomBytes(4).toString('hex')}:`;
  return {
    prefix,
    async clear() {
      const redis = new Redis(TEST_REDIS_URL);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
