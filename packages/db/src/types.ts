import type { DomainTables } from './schema';
import type { KeyTables } from './schema/keys';

/** Every table ORA keeps, as Kysely sees them. */
export interface Database extends DomainTables, KeyTables {}
