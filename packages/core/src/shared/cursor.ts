import { OraError } from '@ora/contracts';
import type { z } from 'zod';

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
