import { createHash } from 'node:crypto';
import type { CompiledQuery, QueryResult, RawBuilder } from 'kysely';
import type { DbOrTx } from './deps';

/** Statement names by text: the same text always gets the same name. */
const names = new Map<string, string>();
/** Past this many texts a caller is building varying SQL: run the rest unnamed, as usual. */
const MAX_NAMED = 128;

function nameOf(text: string): string | null {
  let name = names.get(text);
  if (!name) {
    if (names.size >= MAX_NAMED) return null;
    name = `ora_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs a hot-path statement (task create, claim and success; webhook fan-out and outcome) as a
 * named prepared statement: on Postgres each pooled connection parses and plans it once (the plan
 * cache then keeps a generic plan) instead of at every call, which for these large CTE statements
 * cost about as much as running them. Only for statements whose text is the same at every call
 * (values as parameters, lists as one array or JSON parameter) and whose generic plan cannot go
 * wrong: the name comes from the text, so a different text is a different statement, never a
 * clash. PGlite's driver reads the text and ignores the name.
 *
 * A prepared statement fails ("cached plan must not change result type") once a migration adds a
 * column to a table it returns with `*`: list the columns (see `taskColumns`).
 */
export function executePrepared<R>(db: DbOrTx, query: RawBuilder<R>): Promise<QueryResult<R>> {
  const compiled = query.compile(db);
  const name = nameOf(compiled.sql);
  if (!name) return db.executeQuery<R>(compiled);
  // `pg` takes a query config ({text, name}) where Kysely passes the SQL text.
  const named = { text: compiled.sql, name } as unknown as string;
  return db.executeQuery<R>({ ...compiled, sql: named } as CompiledQuery<R>);
}
