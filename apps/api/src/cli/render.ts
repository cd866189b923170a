/** Plain-text rendering of API answers: tables for lists, `key: value` lines for one thing. */

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Longer cells are cut with an ellipsis (ids are never cut: people copy them). */
  max?: number;
}

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** A cell: timestamps as `2026-11-25 16:30:01` (UTC), lists joined, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return isoTime.test(value) ? shortTime(value) : value.replace(/\s+/g, ' ');
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.length ? value.map(cell).join(',') : '-';
  }
  return JSON.stringify(value);
}

export function shortTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 19).replace('T', ' ');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cut(cell(c.value(row)), c.max ?? 60)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (parts: readonly string[]) =>
    parts
      .map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `key: value` lines, keys aligned. */
export function fields(entries: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(0, ...entries.map(([k]) => k.length)) + 1;
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n');
}

const preferred = [
  'id',
  'slug',
  'name',
  'key',
  'title',
  'type',
  'taskType',
  'status',
  'email',
  'url',
  'scopes',
  'events',
  'isActive',
  'version',
  'createdAt',
];
const bulky = new Set([
  'description',
  'content',
  'body',
  'systemPrompt',
  'instructions',
  'transcript',
  'input',
  'output',
  'excerpt',
  'summary',
]);

function isScalarish(v: unknown): boolean {
  return (
    v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'))
  );
}

/** Columns for items nobody wrote a renderer for: the telling scalar fields, at most seven. */
export function guessColumns(items: readonly Record<string, unknown>[]): Column<Record<string, unknown>>[] {
  const first = items[0] ?? {};
  const names = Object.keys(first).filter((k) => !bulky.has(k) && isScalarish(first[k]));
  const ordered = [
    ...preferred.filter((k) => names.includes(k)),
    ...names.filter((k) => !preferred.includes(k) && !k.endsWith('At')),
  ].slice(0, 7);
  return ordered.map((name) => ({
    header: name
      .replace(/[A-Z]/g, (c) => `_${c}`)
      .toUpperCase()
      .replace(/^_/, ''),
    value: (row) => row[name],
    max: name === 'id' || name.endsWith('Id') ? 40 : 48,
  }));
}

function isRecordArray(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
}

/** Any answer, readably: a page or list as a table, an object as fields with its lists as tables. */
export function renderAny(value: unknown): string {
  if (value === null || typeof value !== 'object') return cell(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '(none)';
    return isRecordArray(value) ? table(value, guessColumns(value)) : value.map(cell).join('\n');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (Array.isArray(record.items) && keys.every((k) => k === 'items' || k === 'nextCursor')) {
    const page = renderAny(record.items);
    return typeof record.nextCursor === 'string' ? `${page}\nMore: add --cursor ${record.nextCursor}` : page;
  }
  const out: string[] = [];
  const scalars = Object.entries(record).filter(([k, v]) => k !== 'nextCursor' && isScalarish(v));
  if (scalars.length) out.push(fields(scalars));
  for (const [k, v] of Object.entries(record)) {
    if (isScalarish(v)) continue;
    if (Array.isArray(v)) {
      out.push(`\n${k} (${v.length}):`);
      if (v.length) out.push(isRecordArray(v) ? table(v, guessColumns(v)) : v.map((x) => `  ${cell(x)}`).join('\n'));
    } else {
      const nested = Object.entries(v as Record<string, unknown>);
      out.push(`\n${k}:`);
      out.push(
        nested.length
          ? fields(nested)
              .split('\n')
              .map((line) => `  ${line}`)
              .join('\n')
          : '  (empty)',
      );
    }
  }
  if (typeof record.nextCursor === 'string') out.push(`\nMore: add --cursor ${record.nextCursor}`);
  return out.join('\n').replace(/^\n/, '');
}
