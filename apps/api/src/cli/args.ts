import { UsageError } from './io';

/** One option a command takes: `--name value`, `--flag` / `--no-flag`, or repeated for a list. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  short?: string;
  description?: string;
  /** Shown in help after the flag, e.g. `--limit N`. */
  placeholder?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValue = string | boolean | string[];

export interface ParsedArgs {
  values: Record<string, OptionValue>;
  positionals: string[];
}

/** `taskType` and `task-type` name the same flag. */
export function toFlagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

/** The closest of `candidates` to `word`, when it is close enough to be a likely typo. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const truthy = new Set(['true', '1', 'yes', 'on']);
const falsy = new Set(['false', '0', 'no', 'off']);

/**
 * Parses `args` against `specs` (flag names in kebab-case). Stops at the first positional when
 * `stopAtPositional` is set (for options before the command name). Unknown options, missing values
 * and bad booleans are UsageErrors naming the flag and the help topic.
 */
export function parseArgs(
  args: readonly string[],
  specs: OptionSpecs,
  topic: string,
  options: {
    stopAtPositional?: boolean;
    /** Keep unknown options (as strings, or true when no value follows) for a later, strict parse. */
    lenient?: boolean;
  } = {},
): ParsedArgs & { rest: string[] } {
  const values: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const shorts = new Map(
    Object.entries(specs)
      .filter(([, s]) => s.short)
      .map(([name, s]) => [s.short as string, name]),
  );
  const set = (name: string, spec: OptionSpec, value: string | boolean) => {
    if (spec.multiple) {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(String(value));
      values[name] = list;
    } else values[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = toFlagName(eq === -1 ? arg.slice(2) : arg.slice(2, eq));
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const long = shorts.get(arg.slice(1));
      if (!long) throw new UsageError(`Unknown option ${arg}`, topic || undefined);
      name = long;
    } else {
      if (options.stopAtPositional) return { values, positionals, rest: args.slice(i) };
      positionals.push(arg);
      continue;
    }
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean' && inline === undefined) {
      name = name.slice(3);
      spec = specs[name] as OptionSpec;
      set(name, spec, false);
      continue;
    }
    if (!spec && options.lenient) {
      const next = args[i + 1];
      if (inline !== undefined) values[name] = inline;
      else if (next === undefined || next.startsWith('-')) values[name] = true;
      else {
        values[name] = next;
        i++;
      }
      continue;
    }
    if (!spec) {
      const close = suggest(name, Object.keys(specs));
      throw new UsageError(`Unknown option --${name}${close ? ` (did you mean --${close}?)` : ''}`, topic || undefined);
    }
    if (spec.type === 'boolean') {
      if (inline === undefined) set(name, spec, true);
      else if (truthy.has(inline.toLowerCase())) set(name, spec, true);
      else if (falsy.has(inline.toLowerCase())) set(name, spec, false);
      else throw new UsageError(`--${name} is true or false, not "${inline}".`, topic || undefined);
      continue;
    }
    if (inline !== undefined) {
      set(name, spec, inline);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined) throw new UsageError(`--${name} needs a value`, topic || undefined);
    set(name, spec, next);
    i++;
  }
  return { values, positionals, rest: [] };
}
