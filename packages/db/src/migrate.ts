import type { Kysely, MigrationResult } from 'kysely';
import { Migrator } from 'kysely';
import { migrations } from '../migrations/index';

export interface MigrationReport {
  applied: string[];
  pending: number;
}

function migratorFor(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'ora_migrations',
    migrationLockTableName: 'ora_migrations_lock',
  });
}

/**
 * Brings the schema to the latest migration. Safe to call from many processes at once:
 * Kysely takes a Postgres advisory lock, and the whole run is one transaction.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const { error, results } = await migratorFor(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? ''} failed: ${describe(error)}`, { cause: error });
  }
  return { applied: names(results), pending: 0 };
}

/** Migrations not yet applied, for `ora migrate --status` and readiness checks. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrations = await migratorFor(db).getMigrations();
  return migrations.filter((m) => !m.executedAt).map((m) => m.name);
}

export async function migrateDown(db: Kysely<any>): Promise<MigrationReport> {
  const { error, results } = await migratorFor(db).migrateDown();
  if (error) throw new Error(`migration down failed: ${describe(error)}`, { cause: error });
  return { applied: names(results), pending: 0 };
}

function names(results: MigrationResult[] | undefined): string[] {
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
