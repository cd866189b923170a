/**
 * Postgres array literals built here rather than by the driver: a batch passes one array per
 * column (`unnest`), a list one array (`= any(...)`), and the driver's generic array encoder
 * escapes every element twice over. The literal travels as one text parameter
 * (`${textArray(values)}::text[]`), the same on Postgres and PGlite (which passes a string
 * parameter through as it is), so the statement's text is the same whatever the list's length.
 */

const SPECIAL = /["\\]/g;

/** `{"a","b",NULL}`: every element quoted, `"` and `\` escaped, null as NULL. */
export function textArray(values: ReadonlyArray<string | null | undefined>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (v.indexOf('"') === -1 && v.indexOf('\\') === -1) out += `"${v}"`;
    else out += `"${v.replace(SPECIAL, '\\$&')}"`;
  }
  return `${out}}`;
}

/**
 * `{1,2,NULL}`: elements that need no quoting. Only for values whose text has no comma, brace,
 * quote, backslash or space: uuids (validated input or read back), numbers, booleans.
 */
export function plainArray(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null || v === undefined ? 'NULL' : String(v);
  }
  return `${out}}`;
}
