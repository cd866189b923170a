import { OraError } from '@ora/contracts';
import { z } from 'zod';

/** Opaque keyset cursors: base64url JSON of the last row's sort values. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** Reads a cursor back, checked against the shape its list wrote (a forged one is a 400, not a 500). */
export function decodeCursor<T extends z.ZodType>(cursor: string, shape: T): z.infer<T> {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const parsed = shape.safeParse(values);
  if (parsed.success) return parsed.data;
  throw new OraError({
    code: 'VALIDATION_ERROR',
    message: 'Invalid cursor: pass the nextCursor of a previous page unchanged',
    details: { issues: [{ path: 'cursor', message: 'not a cursor this server issued', code: 'invalid_cursor' }] },
  });
}

const TimeAndId = z.tuple([z.iso.datetime(), z.uuid()]);

/** Where a newest-first (time, id) list continues: the cursor's pair, or null on the first page. */
export function timeIdAfter(cursor: string | undefined): [Date, string] | null {
  if (!cursor) return null;
  const [time, id] = decodeCursor(cursor, TimeAndId);
  return [new Date(time), id];
}

/** A page from rows fetched with `limit + 1`: its items, and the cursor of the next page if any. */
export function pageFrom<Row, Item>(
  rows: readonly Row[],
  limit: number,
  cursorOf: (row: Row) => readonly (string | number)[],
  map: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
