import { z } from 'zod';
import type { OptionSpecs, OptionValue } from './args';
import { toFlagName } from './args';
import { UsageError } from './io';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
};

type Scalar = 'string' | 'number' | 'integer' | 'boolean';

/**
 * How a top-level input field is given as a flag: a scalar (`--title x`, `--priority 3`, `--pinned`),
 * a list (`--tags a,b` or `--tags a --tags b`), or JSON for anything nested (`--input '{"a":1}'`).
 * `any` fields (unknown in the schema) take JSON, or the text itself when it is not JSON.
 */
export interface FieldSpec {
  name: string;
  flag: string;
  kind: Scalar | 'list' | 'json' | 'any';
  /** The type of a list's items. */
  item?: Exclude<Scalar, 'boolean'>;
  /** Takes one value or a list (`--status error` or `--status error,cancelled`). */
  oneOrMany?: boolean;
  enum?: string[];
  nullable: boolean;
  required: boolean;
  default?: unknown;
  description?: string;
  format?: string;
  range?: string;
}

export interface InputFields {
  fields: FieldSpec[];
  /** More than one: the input is a union of shapes; the flags are those of every shape. */
  shapes: number;
}

function scalarOf(node: JsonSchema): { type: Scalar; enum?: string[]; format?: string } | undefined {
  if (node.const !== undefined && ['string', 'number', 'boolean'].includes(typeof node.const)) {
    return { type: typeof node.const as Scalar, ...(typeof node.const === 'string' ? { enum: [node.const] } : {}) };
  }
  if (node.enum?.every((v) => typeof v === 'string')) return { type: 'string', enum: node.enum as string[] };
  if (typeof node.type === 'string' && ['string', 'number', 'integer', 'boolean'].includes(node.type)) {
    return { type: node.type as Scalar, ...(node.format ? { format: node.format } : {}) };
  }
  const branches = node.anyOf ?? node.oneOf;
  // A union of string formats (an IP or a CIDR block) is a string.
  if (branches?.length && branches.every((b) => b.type === 'string' && !b.enum)) return { type: 'string' };
  return undefined;
}

function rangeOf(node: JsonSchema): string | undefined {
  const [min, max] =
    node.minimum !== undefined || node.maximum !== undefined
      ? [node.minimum, node.maximum]
      : [node.minLength, node.maxLength].map((v, i) => (v === undefined || (i === 0 && v <= 1) ? undefined : v));
  if (min === undefined && max === undefined) return undefined;
  if (max !== undefined && max > 1e12) return min === undefined ? undefined : `>= ${min}`;
  const unit = node.minLength !== undefined || node.maxLength !== undefined ? ' chars' : '';
  return min === undefined ? `<= ${max}${unit}` : max === undefined ? `>= ${min}${unit}` : `${min}..${max}${unit}`;
}

function classify(name: string, node: JsonSchema, required: boolean): FieldSpec {
  const base = {
    name,
    flag: toFlagName(name),
    required,
    nullable: false,
    ...(node.description ? { description: node.description } : {}),
    ...(node.default !== undefined ? { default: node.default } : {}),
  };
  let inner = node;
  const branches = node.anyOf ?? node.oneOf;
  if (branches) {
    const nonNull = branches.filter((b) => b.type !== 'null');
    base.nullable = nonNull.length < branches.length;
    if (nonNull.length === 1) inner = { ...(nonNull[0] as JsonSchema) };
    else {
      const scalar = nonNull.find((b) => scalarOf(b) && b.type !== 'array');
      const list = nonNull.find((b) => b.type === 'array' && b.items && scalarOf(b.items));
      if (nonNull.length === 2 && scalar && list) {
        const item = scalarOf(scalar);
        if (item && item.type !== 'boolean') {
          return { ...base, kind: 'list', item: item.type, oneOrMany: true, ...(item.enum ? { enum: item.enum } : {}) };
        }
      }
      const joined = scalarOf({ anyOf: nonNull });
      if (joined) return { ...base, kind: joined.type };
      return { ...base, kind: 'json' };
    }
  }
  if (!base.description && inner.description) base.description = inner.description;
  const range = rangeOf(inner);
  const scalar = scalarOf(inner);
  if (scalar) {
    return {
      ...base,
      kind: scalar.type,
      ...(scalar.enum ? { enum: scalar.enum } : {}),
      ...(scalar.format ? { format: scalar.format } : {}),
      ...(range ? { range } : {}),
    };
  }
  if (inner.type === 'array' && inner.items) {
    const item = scalarOf(inner.items);
    if (item && item.type !== 'boolean') {
      return { ...base, kind: 'list', item: item.type, ...(item.enum ? { enum: item.enum } : {}) };
    }
    return { ...base, kind: 'json' };
  }
  if (inner.type === undefined && !inner.properties) return { ...base, kind: 'any' };
  return { ...base, kind: 'json' };
}

const cache = new WeakMap<z.ZodType, InputFields>();

/** The top-level fields of an action's input schema, as flags (from its JSON Schema, input side). */
export function inputFields(schema: z.ZodType): InputFields {
  const cached = cache.get(schema);
  if (cached) return cached;
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const shapes = (json.anyOf ?? json.oneOf ?? [json]).filter((s) => s.properties || s.type === 'object');
  const byName = new Map<string, FieldSpec>();
  for (const shape of shapes) {
    for (const [name, node] of Object.entries(shape.properties ?? {})) {
      if (!byName.has(name)) byName.set(name, classify(name, node, false));
    }
  }
  // Required only when every shape requires it.
  for (const field of byName.values()) {
    field.required = shapes.length > 0 && shapes.every((s) => s.required?.includes(field.name));
  }
  const result = { fields: [...byName.values()], shapes: shapes.length };
  cache.set(schema, result);
  return result;
}

export function optionSpecsFor(fields: readonly FieldSpec[]): OptionSpecs {
  const specs: OptionSpecs = {};
  for (const field of fields) {
    specs[field.flag] = {
      type: field.kind === 'boolean' ? 'boolean' : 'string',
      ...(field.kind === 'list' ? { multiple: true } : {}),
      ...(field.description ? { description: field.description } : {}),
    };
  }
  return specs;
}

function scalarValue(field: FieldSpec, type: Exclude<Scalar, 'boolean'>, raw: string): string | number {
  if (type === 'string') {
    if (field.enum && !field.enum.includes(raw)) {
      throw new UsageError(`--${field.flag} must be one of ${field.enum.join(', ')}; got "${raw}"`);
    }
    return raw;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${field.flag} takes a number; got "${raw}"`);
  if (type === 'integer' && !Number.isInteger(value)) {
    throw new UsageError(`--${field.flag} takes a whole number; got "${raw}"`);
  }
  return value;
}

function jsonValue(field: FieldSpec, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    if (field.kind === 'any') return raw;
    throw new UsageError(
      `--${field.flag} takes JSON, e.g. --${field.flag} '{"name": "value"}'; got ${raw.slice(0, 60)}`,
    );
  }
}

/** Turns parsed flag values into the action's data (top-level fields), checking types and enums. */
export function dataFromFlags(
  fields: readonly FieldSpec[],
  values: Readonly<Record<string, OptionValue>>,
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field of fields) {
    const given = values[field.flag];
    if (given === undefined) continue;
    if (field.kind === 'boolean') {
      data[field.name] = given === true;
      continue;
    }
    const raws = Array.isArray(given) ? given : [String(given)];
    const last = raws[raws.length - 1] as string;
    if (field.nullable && last === 'null') {
      data[field.name] = null;
      continue;
    }
    switch (field.kind) {
      case 'string':
      case 'number':
      case 'integer':
        data[field.name] = scalarValue(field, field.kind, last);
        break;
      case 'list': {
        const items = raws
          .flatMap((raw) => raw.split(','))
          .map((s) => s.trim())
          .filter(Boolean)
          .map((raw) => scalarValue(field, field.item ?? 'string', raw));
        data[field.name] = field.oneOrMany && items.length === 1 && raws.length === 1 ? items[0] : items;
        break;
      }
      default:
        data[field.name] = jsonValue(field, last);
    }
  }
  return data;
}

function placeholder(field: FieldSpec): string {
  const one = (type: string | undefined) =>
    field.enum && field.enum.join('|').length <= 40
      ? field.enum.join('|')
      : field.format === 'uuid'
        ? 'ID'
        : field.format === 'date-time'
          ? 'ISO-TIME'
          : type === 'integer'
            ? 'INT'
            : type === 'number'
              ? 'NUMBER'
              : field.enum
                ? 'NAME'
                : 'TEXT';
  switch (field.kind) {
    case 'boolean':
      return '';
    case 'list':
      return `${one(field.item)}[,...]`;
    case 'json':
      return 'JSON';
    case 'any':
      return 'JSON|TEXT';
    default:
      return one(field.kind);
  }
}

/** One line per field: flag, placeholder, and what the schema says about it. */
export function describeFields(fields: readonly FieldSpec[]): string[] {
  const rows = fields.map((field) => {
    const left =
      `--${field.flag}${field.kind === 'boolean' ? ` / --no-${field.flag}` : ''} ${placeholder(field)}`.trimEnd();
    const notes = [
      field.required ? 'required' : undefined,
      // The placeholder already says ID or ISO-TIME.
      field.description === 'A UUID' || field.description === 'An ISO 8601 time' ? undefined : field.description,
      field.enum && field.enum.join('|').length > 40 ? `one of ${field.enum.join(', ')}` : undefined,
      field.range,
      field.default !== undefined ? `default ${JSON.stringify(field.default)}` : undefined,
      field.nullable ? '"null" gives null' : undefined,
    ].filter(Boolean);
    return [left, notes.join('; ')] as const;
  });
  const width = Math.min(44, Math.max(0, ...rows.map(([left]) => left.length)) + 2);
  return rows.map(([left, notes]) =>
    notes
      ? left.length + 2 > width
        ? `  ${left}\n  ${' '.repeat(width)}${notes}`
        : `  ${left.padEnd(width)}${notes}`
      : `  ${left}`,
  );
}

/** A zod error as lines naming flags: `--title: Too small: expected string to have >=1 characters`. */
export function describeIssues(error: z.ZodError): string[] {
  const issues = error.issues.flatMap((issue) => {
    if (issue.code === 'invalid_union' && 'errors' in issue && Array.isArray(issue.errors) && issue.errors.length) {
      // The shape that came closest explains best what is missing; when several tie, say each.
      const branches = issue.errors as z.core.$ZodIssue[][];
      const fewest = Math.min(...branches.map((b) => b.length));
      const closest = branches.filter((b) => b.length === fewest);
      return closest.flatMap((branch, i) =>
        branch.map((inner) => ({
          ...inner,
          path: [...issue.path, ...inner.path],
          message: closest.length > 1 ? `${inner.message}${i < closest.length - 1 ? ' (or:)' : ''}` : inner.message,
        })),
      );
    }
    return [issue];
  });
  return issues.map((issue) => {
    const [head, ...rest] = issue.path;
    const where =
      head === undefined
        ? 'input'
        : `--${toFlagName(String(head))}${rest.length ? ` (at ${rest.map(String).join('.')})` : ''}`;
    return `${where}: ${issue.message}`;
  });
}
