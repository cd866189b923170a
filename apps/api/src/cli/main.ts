import { OraClientError } from '@ora/client';
import { type ActionName, actionNames, isActionName } from '@ora/contracts';
import { z } from 'zod';
import { type OptionSpecs, type OptionValue, parseArgs, suggest } from './args';
import type { Command, CommandContext } from './command';
import { actionHelp, actionOptions, actionsByDomain, runAction } from './commands/action';
import { commands } from './commands/index';
import { type Connection, clientFor, howToGetAKey, resolveConnection } from './connection';
import { type CliIo, exitCodes, UsageError } from './io';

/** Options every command takes. An action's own field of the same name wins after its name. */
export const globalOptions: OptionSpecs = {
  url: {
    type: 'string',
    placeholder: 'URL',
    description: 'Server address (else ORA_URL, the config file, http://127.0.0.1:8787)',
  },
  server: { type: 'string', placeholder: 'URL', description: 'Same as --url' },
  key: {
    type: 'string',
    placeholder: 'KEY',
    description: 'API key (else ORA_API_KEY, the config file); never printed',
  },
  'api-key': { type: 'string', placeholder: 'KEY', description: 'Same as --key' },
  json: { type: 'boolean', description: 'Print the raw JSON answer (errors as JSON on stderr)' },
  'idempotency-key': {
    type: 'string',
    placeholder: 'KEY',
    description: 'For changes: a repeat with the same key and input gets the first answer',
  },
  help: { type: 'boolean', short: 'h', description: 'Help for the command' },
};

const byName = new Map<string, Command>();
for (const command of commands)
  for (const name of [command.name, ...(command.aliases ?? [])]) byName.set(name, command);
const groupWords = new Set([...byName.keys()].filter((n) => n.includes(' ')).map((n) => n.split(' ')[0] as string));

interface RunState {
  json: boolean;
  /** The command or action being run, for the help pointer of a usage error. */
  topic?: string;
  connection?: Connection;
}

function write(stream: CliIo['stdout'], text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function commandHelp(command: Command): string {
  const lines = [
    `ora ${command.name}: ${command.summary}`,
    '',
    `Usage: ora ${command.name}${command.usage ? ` ${command.usage}` : ''}`,
  ];
  if (command.aliases?.length) lines.push(`Also: ${command.aliases.map((a) => `ora ${a}`).join(', ')}`);
  const options = Object.entries(command.options ?? {});
  if (options.length) {
    lines.push('', 'Options:');
    const rows = options.map(([name, spec]) => {
      const left = `--${name}${spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? 'VALUE'}`}`;
      return [left, spec.description ?? ''] as const;
    });
    const width = Math.max(...rows.map(([left]) => left.length)) + 2;
    for (const [left, text] of rows) lines.push(`  ${left.padEnd(width)}${text}`.trimEnd());
  }
  if (command.details) lines.push('', command.details);
  lines.push('', 'Global options: --url URL, --key KEY, --json, --idempotency-key KEY (see `ora help`).');
  return lines.join('\n');
}

export function mainHelp(): string {
  const lines = [
    'ora: the ORA command line',
    '',
    'Usage: ora <command> [options]',
    '       ora <domain.action> [--field value ...] [--data JSON|@file|-] [--json]',
  ];
  for (const group of new Set(commands.map((c) => c.group))) {
    lines.push('', `${group}:`);
    const listed = commands.filter((c) => c.group === group);
    const width = Math.max(...listed.map((c) => c.name.length)) + 2;
    for (const command of listed) lines.push(`  ${command.name.padEnd(width)}${command.summary}`);
  }
  lines.push('', 'Actions: every API action, with flags from its input schema (`ora <action> --help` lists them):');
  const groups = actionsByDomain();
  const width = Math.max(...[...groups.keys()].map((d) => d.length)) + 2;
  for (const [domain, names] of groups) {
    // Wrapped at 110 columns, continuation lines under the first name.
    let current = `  ${domain.padEnd(width)}`;
    for (const name of names) {
      if (current.trim() !== domain && current.length + name.length > 110) {
        lines.push(current.trimEnd());
        current = ' '.repeat(width + 2);
      }
      current += `${name} `;
    }
    lines.push(current.trimEnd());
  }
  lines.push('', 'Global options:');
  for (const [name, spec] of Object.entries(globalOptions)) {
    if (name === 'server' || name === 'api-key') continue;
    const left = `--${name}${spec.type === 'boolean' ? '' : ` ${spec.placeholder}`}`;
    lines.push(`  ${left.padEnd(24)}${spec.description}`);
  }
  lines.push(
    '',
    'The server URL and key come from --url/--key, else ORA_URL/ORA_API_KEY, else the config file `ora login` writes',
    '($ORA_CONFIG or ~/.config/ora/config.json). Exit codes: 0 done, 1 the server refused or failed (or a watched',
    'task did not succeed), 2 a usage error. More: docs/cli.md.',
  );
  return lines.join('\n');
}

/** Global option specs without the names the command uses for itself. */
function globalsFor(own: OptionSpecs): OptionSpecs {
  return Object.fromEntries(Object.entries(globalOptions).filter(([name]) => !Object.hasOwn(own, name)));
}

interface Resolved {
  topic: string;
  command?: Command;
  action?: ActionName;
  args: string[];
}

function resolve(words: string[]): Resolved {
  const [first, ...rest] = words as [string, ...string[]];
  if (first.includes('.')) {
    if (isActionName(first)) return { topic: first, action: first, args: rest };
    const close = suggest(first, actionNames);
    throw new UsageError(`"${first}" is not an action${close ? ` (did you mean ${close}?)` : ''}`);
  }
  const second = rest[0];
  if (second !== undefined && byName.has(`${first} ${second}`)) {
    const command = byName.get(`${first} ${second}`) as Command;
    return { topic: command.name, command, args: rest.slice(1) };
  }
  const single = byName.get(first);
  if (single) return { topic: single.name, command: single, args: rest };
  if (groupWords.has(first)) {
    const subs = commands.map((c) => c.name).filter((n) => n.startsWith(`${first} `));
    const wanted = second && !second.startsWith('-') ? `"${first} ${second}" is not a command. ` : '';
    const actionsOf = actionsByDomain().get(first);
    throw new UsageError(
      `${wanted}Commands: ${subs.map((s) => `ora ${s}`).join(', ')}${actionsOf ? `; actions: ${actionsOf.join(', ')}` : ''}`,
    );
  }
  const close = suggest(first, [...byName.keys(), ...groupWords]);
  throw new UsageError(`Unknown command "${first}"${close ? ` (did you mean "ora ${close}"?)` : ''}`);
}

function pick(values: Record<string, OptionValue>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

async function dispatch(argv: readonly string[], io: CliIo, state: RunState): Promise<number> {
  const lead = parseArgs(argv, globalOptions, '', { stopAtPositional: true });
  if (lead.values.json) state.json = true;
  const words = lead.rest;
  if (words.length === 0 || words[0] === 'help') {
    const topic = words.slice(1);
    if (topic.length === 0) {
      write(io.stdout, mainHelp());
      return exitCodes.ok;
    }
    const target = resolve(topic);
    write(io.stdout, target.action ? actionHelp(target.action) : commandHelp(target.command as Command));
    return exitCodes.ok;
  }
  const target = resolve(words);
  state.topic = target.topic;
  const own: OptionSpecs = target.action ? actionOptions(target.action) : (target.command?.options ?? {});
  const specs = { ...globalsFor(own), ...own };
  const parsed = parseArgs(target.args, specs, target.topic, { lenient: target.command?.dynamicOptions === true });
  const values = parsed.values;
  if (values.json === true) state.json = true;
  const wantsHelp = values.help === true || lead.values.help === true;
  if (wantsHelp && !(target.command?.dynamicOptions && parsed.positionals.length)) {
    write(io.stdout, target.action ? actionHelp(target.action) : commandHelp(target.command as Command));
    return exitCodes.ok;
  }

  // Connection flags after the name count unless the action has a field of that name.
  const flagUrl =
    pick(values, 'server') ??
    (Object.hasOwn(own, 'url') ? undefined : pick(values, 'url')) ??
    pick(lead.values, 'server') ??
    pick(lead.values, 'url');
  const flagKey =
    pick(values, 'api-key') ??
    (Object.hasOwn(own, 'key') ? undefined : pick(values, 'key')) ??
    pick(lead.values, 'api-key') ??
    pick(lead.values, 'key');
  let connection: Connection | undefined;
  const ctx: CommandContext = {
    io,
    values,
    positionals: parsed.positionals,
    json: state.json,
    idempotencyKey: pick(values, 'idempotency-key') ?? pick(lead.values, 'idempotency-key'),
    out: (text) => {
      write(io.stdout, text);
      return undefined;
    },
    note: (text) => {
      write(io.stderr, text);
      return undefined;
    },
    connection() {
      connection ??= resolveConnection({ url: flagUrl, key: flagKey }, io);
      state.connection = connection;
      return connection;
    },
    client() {
      return clientFor(ctx.connection(), io);
    },
    parse(extra) {
      const strict = parseArgs(target.args, { ...specs, ...extra }, target.topic);
      ctx.values = strict.values;
      ctx.positionals = strict.positionals;
      return strict;
    },
  };
  if (target.action) return runAction(target.action, ctx);
  const code = await (target.command as Command).run(ctx);
  return typeof code === 'number' ? code : exitCodes.ok;
}

const networkCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT']);

function networkCode(error: unknown): string | undefined {
  for (let e: any = error; e; e = e.cause) {
    if (typeof e.code === 'string' && networkCodes.has(e.code)) return e.code;
    if (Array.isArray(e.errors)) {
      const inner = e.errors.find((x: any) => typeof x?.code === 'string' && networkCodes.has(x.code));
      if (inner) return inner.code;
    }
  }
  return undefined;
}

function explainApiError(error: OraClientError, state: RunState): string {
  const where = state.connection?.url ?? 'the server';
  const request = error.requestId ? ` (request ${error.requestId})` : '';
  switch (error.code) {
    case 'UNAUTHORIZED':
      return `${where} refused the key${state.connection?.keySource ? ` from the ${state.connection.keySource}` : ''}: ${error.message}${request}.\n${howToGetAKey}`;
    case 'FORBIDDEN':
      return `Not allowed: ${error.message}${request}.\nThis key lacks the scope: \`ora whoami\` shows its scopes; a key with more is made by \`ora keys create --scopes ...\`.`;
    case 'NOT_FOUND':
      return `Not found: ${error.message}${request}.`;
    case 'VALIDATION_ERROR': {
      const details = error.details === undefined ? '' : `\n  ${JSON.stringify(error.details).slice(0, 800)}`;
      return `The server refused the input: ${error.message}${request}.${details}`;
    }
    case 'RATE_LIMITED':
      return `Rate limited: ${error.message}${request}.${error.retryAfterSeconds ? ` Try again in ${error.retryAfterSeconds} s.` : ''}`;
    case 'CONFLICT':
      return `Conflict: ${error.message}${request}.`;
    default:
      return `${error.code}: ${error.message}${request}.`;
  }
}

function report(error: unknown, io: CliIo, state: RunState): number {
  const asJson = (code: string, message: string, extra: Record<string, unknown> = {}) =>
    write(io.stderr, JSON.stringify({ error: { code, message, ...extra } }));
  if (error instanceof UsageError) {
    if (state.json) asJson('USAGE_ERROR', error.message);
    else {
      const topic = error.hint ?? state.topic;
      const help = topic ? `ora ${topic} --help` : 'ora help';
      write(io.stderr, `ora: ${error.message}\n(\`${help}\` shows how to use it)`);
    }
    return exitCodes.usage;
  }
  // By name: importing env.ts would load the whole server for every command.
  if ((error as Error)?.name === 'ConfigError') {
    write(io.stderr, `${(error as Error).message}\nFix the variables above and start again.`);
    return exitCodes.usage;
  }
  if (error instanceof OraClientError) {
    if (state.json) {
      write(
        io.stderr,
        JSON.stringify({
          error: {
            code: error.code,
            message: error.message,
            ...(error.details !== undefined ? { details: error.details } : {}),
          },
          requestId: error.requestId,
          status: error.httpStatus,
        }),
      );
    } else write(io.stderr, `ora: ${explainApiError(error, state)}`);
    return exitCodes.apiError;
  }
  const url = state.connection?.url ?? 'the server';
  const network =
    networkCode(error) ??
    (error instanceof TypeError && error.message === 'fetch failed'
      ? ((error.cause as Error | undefined)?.message ?? 'fetch failed')
      : undefined);
  if (network) {
    const message = `No ORA server answers at ${url} (${network}): start one with \`pnpm start\`, or pass --url (or set ORA_URL) to reach another.`;
    if (state.json) asJson('UNREACHABLE', message);
    else write(io.stderr, `ora: ${message}`);
    return exitCodes.apiError;
  }
  if ((error as Error)?.name === 'TimeoutError') {
    const message = `${url} did not answer in time; is it overloaded? \`curl ${url}/readyz\` shows its health.`;
    if (state.json) asJson('TIMEOUT', message);
    else write(io.stderr, `ora: ${message}`);
    return exitCodes.apiError;
  }
  if (error instanceof z.ZodError) {
    write(io.stderr, `ora: invalid argument: ${error.issues.map((i) => i.message).join('; ')}`);
    return exitCodes.usage;
  }
  const message = (error as Error)?.message ?? String(error);
  if (state.json) asJson('CLI_ERROR', message);
  else write(io.stderr, `ora: ${message}`);
  return exitCodes.apiError;
}

/**
 * Runs one `ora` command line and answers its exit code: 0 done, 1 the API refused or failed,
 * 2 a usage error. All input and output goes through `io` (tests pass buffers).
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  // Known before parsing, so that even a usage error comes out as JSON.
  const state: RunState = { json: argv.includes('--json') };
  try {
    return await dispatch(argv, io, state);
  } catch (error) {
    return report(error, io, state);
  }
}
