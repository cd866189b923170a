import type { OraClient } from '@ora/client';
import type { OptionSpecs, OptionValue, ParsedArgs } from './args';
import type { Connection } from './connection';
import type { CliIo } from './io';

/** Sections of `ora help`. */
export type CommandGroup = 'Daily use' | 'Server and keys (this machine)' | 'Connection';

/**
 * One friendly command (`ora tasks ls`). The table in commands/index.ts lists them all: adding a
 * command is one line there plus its module.
 */
export interface Command {
  /** One or two words: `start`, `tasks ls`. */
  name: string;
  aliases?: string[];
  group: CommandGroup;
  summary: string;
  /** What follows the name in the usage line, e.g. `[ID] [--chain]`. */
  usage?: string;
  options?: OptionSpecs;
  /** More help text under the options. */
  details?: string;
  /** The command learns some options only while running (workflow inputs): it calls ctx.parse itself. */
  dynamicOptions?: boolean;
  /** Answers the exit code; anything but a number means 0. */
  run(ctx: CommandContext): Promise<unknown>;
}

export interface CommandContext {
  io: CliIo;
  /** The command's option values (flag names in kebab-case) and positional arguments. */
  values: Record<string, OptionValue>;
  positionals: string[];
  /** --json: print the raw answer as JSON. */
  json: boolean;
  idempotencyKey: string | undefined;
  /** A line on stdout (results). */
  out(text: string): undefined;
  /** A line on stderr (progress, notes, hints). */
  note(text: string): undefined;
  /** Server URL and key from flags, environment or config file. */
  connection(): Connection;
  /** A client for that server; a UsageError when no key is configured. */
  client(): OraClient;
  /** Parses the arguments again with more options (for dynamicOptions commands). */
  parse(extra: OptionSpecs): ParsedArgs;
}

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value[value.length - 1] : undefined;
}

export function listOption(ctx: CommandContext, name: string): string[] | undefined {
  const value = ctx.values[name];
  if (value === undefined || typeof value === 'boolean') return undefined;
  const items = (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}
