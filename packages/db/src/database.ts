import { mkdirSync, rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect';
import { discardPgliteTemplate, isFreshDataDir, readPgliteTemplate } from './pglite-template';
import type { Database } from './types';
import { findVectorType, registerPgliteVectorType } from './vector';

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseCapabilities {
  /** pgvector is installed and the memory table has its embedding column, so search can be hybrid. */
  vector: boolean;
}

export interface OraDatabase {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** Filled by `refreshCapabilities()`; migrations may change what the database can do. */
  capabilities: DatabaseCapabilities;
  refreshCapabilities(): Promise<DatabaseCapabilities>;
  /** One round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: 'postgres'; url: string; poolSize?: number; applicationName?: string }
  | { kind: 'pglite'; dataDir?: string };

// Postgres hands int8 and numeric back as strings through `pg`; PGlite is told to do the same,
// so rows look alike in both modes and no big value loses precision.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const asText = (value: string) => value;

/**
 * Opens the database ORA runs on: Postgres at a URL, or PGlite (with pgvector) in a directory,
 * or in memory when no directory is given.
 */
export async function createDatabase(options: DatabaseOptions): Promise<OraDatabase> {
  if (options.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'ora',
    });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it. Queries report their own errors.
    });
    pg.types.setTypeParser(INT8_OID, asText);
    // Kysely's destroy() ends the pool.
    return wrap(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', async () => {});
  }

  const pglite = await openPglite(options.dataDir);
  const handle = wrap(new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), 'pglite', async () => {
    await pglite.close();
  });
  // pgvector arrives with a migration: once it is there, vectors can be bound in binary.
  const refresh = handle.refreshCapabilities.bind(handle);
  handle.refreshCapabilities = async () => {
    const capabilities = await refresh();
    const type = capabilities.vector ? await findVectorType(handle.db) : null;
    if (type) registerPgliteVectorType(pglite, type);
    return capabilities;
  };
  return handle;
}

/**
 * PGlite in `dataDir` (or in memory). A new database is unpacked from the initdb template when the
 * install step made one (see pglite-template.ts); should that fail, it is discarded and initdb runs.
 */
export async function openPglite(
  dataDir: string | undefined,
  readTemplate: () => Blob | null = readPgliteTemplate,
  discardTemplate: () => void = discardPgliteTemplate,
): Promise<PGlite> {
  const fresh = dataDir === undefined || isFreshDataDir(dataDir);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const open = (template: Blob | null) =>
    PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      ...(template ? { loadDataDir: template } : {}),
      extensions: { vector },
      parsers: { [INT8_OID]: asText, [NUMERIC_OID]: asText },
    });
  const template = fresh ? readTemplate() : null;
  if (!template) return open(null);
  try {
    return await open(template);
  } catch {
    discardTemplate();
    if (dataDir) {
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
    }
    return open(null);
  }
}

function wrap(db: Kysely<Database>, kind: DatabaseKind, end: () => Promise<void>): OraDatabase {
  const handle: OraDatabase = {
    db,
    kind,
    capabilities: { vector: false },
    async refreshCapabilities() {
      const { rows } = await sql<{ vector: boolean }>`
        select exists(select 1 from pg_extension where extname = 'vector')
           and exists(select 1 from information_schema.columns
                      where table_name = 'agent_memory' and column_name = 'embedding') as vector
      `.execute(db);
      handle.capabilities = { vector: rows[0]?.vector === true };
      return handle.capabilities;
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
      await end();
    },
  };
  return handle;
}
