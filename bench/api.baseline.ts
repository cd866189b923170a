/**
 * The baseline servers of `pnpm bench api`, run as a child exactly as ORA is (`node --import tsx`):
 *
 *   node --import tsx bench/api.baseline.ts json   bare Fastify, POST /api/ora/keys.whoami -> {"ok":true}
 *   node --import tsx bench/api.baseline.ts db     bare Fastify, POST /api/ora/keys.get -> the api_keys row
 *                                                  by id, on the database ORA opens (same Kysely, pool)
 *
 * Both use the Fastify copy apps/api uses, with no logger and no plugins, listen on 127.0.0.1 at a
 * free port (db: with ORA's database settings, read by its loadConfig), print "baseline (<kind>) is
 * ready at <url>", and stop on SIGTERM.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { buildApp } from '../apps/api/src/app';

type FastifyInstance = Awaited<ReturnType<typeof buildApp>>;
type Fastify = (options: { logger: false }) => FastifyInstance;

const apiPackage = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../apps/api/package.json');
const Fastify = createRequire(apiPackage)('fastify') as Fastify;

const kind = process.argv[2];
if (kind !== 'json' && kind !== 'db') {
  process.stderr.write('usage: node --import tsx bench/api.baseline.ts <json|db>\n');
  process.exit(2);
}

const app = Fastify({ logger: false });
let close = async () => {};

app.get('/readyz', async () => ({ status: 'ready' }));

if (kind === 'json') {
  app.post('/api/ora/keys.whoami', async () => ({ ok: true }));
} else {
  // What createSystem() puts in system.database: the same dialect, driver and pool size. Loaded only
  // here, so the json baseline's start time and memory are those of bare Fastify.
  const { loadConfig } = await import('../apps/api/src/env');
  const { openDatabase } = await import('../apps/api/src/system');
  const database = await openDatabase(loadConfig());
  const db = database.db;
  close = () => database.close();
  app.post('/api/ora/keys.get', async (request, reply) => {
    const { id } = request.body as { id: string };
    const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return reply.code(404).send({ ok: false });
    return { data: row };
  });
}

// Where the bench runs ORA too (HOST=127.0.0.1, PORT=0).
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`baseline (${kind}) is ready at http://127.0.0.1:${port}\n`);

process.once('SIGTERM', () => {
  app
    .close()
    .then(close)
    .then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`baseline: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
});
