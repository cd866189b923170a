import { OraError } from '@ora/contracts';

/** Opaque keyset cursors: base64url JSON of the last row's sort values. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === arity) return values;
  } catch {
    // fall through to the error below
  }
  throw new OraError({
    code: 'VALIDATION_ERROR',
    message: 'Invalid cursor: pass the nextCursor of a previous page unchanged',
    details: { issues: [{ path: 'cursor', message: 'not a cursor this server issued', code: 'invalid_cursor' }] },
  });
}
