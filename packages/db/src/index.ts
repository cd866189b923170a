/**
 * @ora/db: the database layer. Kysely over Postgres (`pg`) or PGlite, one migration set for both.
 */

export type { DatabaseCapabilities, DatabaseKind, DatabaseOptions, OraDatabase } from './database';
export { createDatabase } from './database';
export type { MigrationReport } from './migrate';
export { migrateDown, migrateToLatest, pendingMigrations } from './migrate';
export { PGliteDialect } from './pglite-dialect';
export { buildPgliteTemplate, pgliteTemplatePath } from './pglite-template';
export * from './schema';
export * from './schema/keys';
export type { Database } from './types';
export type { VectorType } from './vector';
export { encodeVector, findVectorType } from './vector';
