import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ActionName, actionNames, actions } from '@ora/contracts';
import type { OptionSpecs } from '../args';
import type { CommandContext } from '../command';
import { type CliIo, UsageError } from '../io';
import { renderAny } from '../render';
import { dataFromFlags, describeFields, describeIssues, inputFields, optionSpecsFor } from '../schema-flags';

/** Actions grouped by their domain (`tasks.list` -> tasks), for `ora help`. */
export function actionsByDomain(): Map<string, ActionName[]> {
  const groups = new Map<string, ActionName[]>();
  for (const name of [...actionNames].sort()) {
    const domain = name.split('.')[0] as string;
    groups.set(domain, [...(groups.get(domain) ?? []), name]);
  }
  return groups;
}

/** The body option: `--data`, or `-d` / `--request-data` when the action has a `data` field of its own. */
export function bodyOption(hasDataField: boolean): OptionSpecs {
  return hasDataField
    ? { 'request-data': { type: 'string', short: 'd', placeholder: 'JSON|@FILE|-' } }
    : { data: { type: 'string', short: 'd', placeholder: 'JSON|@FILE|-' } };
}

export function actionHelp(name: ActionName): string {
  const def = actions[name];
  const { fields, shapes } = inputFields(def.input);
  const body = fields.some((f) => f.name === 'data') ? '-d' : '--data';
  const lines = [
    `ora ${name}: ${def.summary}`,
    `Scope: ${def.scope ?? 'any valid key'}. ${def.mutates ? 'Changes state; --idempotency-key KEY makes a retry safe.' : 'Reads only.'}`,
    '',
    `Usage: ora ${name}${fields.length ? ' [--field value ...]' : ''} [--json]`,
    `       ora ${name} ${body} '{...}'   (${body} @file.json reads a file, ${body} - standard input; flags override its fields)`,
  ];
  if (fields.some((f) => f.name === 'id')) lines.push(`       ora ${name} ID   (the id as the only argument)`);
  if (fields.length) {
    lines.push('', 'Fields (from the input schema):', ...describeFields(fields));
    if (fields.some((f) => f.kind === 'json'))
      lines.push('', 'Nested fields take JSON, or give the whole input with --data.');
    if (shapes > 1) lines.push(`The input is one of ${shapes} shapes; the fields of all of them are listed.`);
    if (fields.some((f) => ['key', 'url', 'data', 'config'].includes(f.name))) {
      lines.push(
        '',
        'This action has fields named like global options: here they are its fields. Give the connection with',
        `--api-key / --server (or before the action name: ora --key K --url U ${name} ...).`,
      );
    }
  } else lines.push('', 'No fields.');
  return lines.join('\n');
}

async function readBody(raw: string, io: CliIo, name: string): Promise<Record<string, unknown>> {
  let text: string;
  if (raw === '-') text = await io.readStdin();
  else if (raw.startsWith('@')) {
    const file = path.resolve(io.cwd, raw.slice(1));
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        name,
      );
    }
  } else text = raw;
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--data is not valid JSON (${(error as Error).message})`, name);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError('--data must be a JSON object: the action\'s input, e.g. {"id": "..."}', name);
  }
  return parsed as Record<string, unknown>;
}

/** The option specs of `ora <action>`: its fields, the body option (globals are added by the caller). */
export function actionOptions(name: ActionName): OptionSpecs {
  const { fields } = inputFields(actions[name].input);
  return { ...bodyOption(fields.some((f) => f.name === 'data')), ...optionSpecsFor(fields) };
}

/** `ora <action> ...`: builds the input from --data and flags, checks it against the schema, calls it. */
export async function runAction(name: ActionName, ctx: CommandContext): Promise<number> {
  const def = actions[name];
  const { fields } = inputFields(def.input);
  const bodyRaw = ctx.values['request-data'] ?? (fields.some((f) => f.name === 'data') ? undefined : ctx.values.data);
  const data = typeof bodyRaw === 'string' ? await readBody(bodyRaw, ctx.io, name) : {};
  Object.assign(data, dataFromFlags(fields, ctx.values));
  if (ctx.positionals.length) {
    if (ctx.positionals.length === 1 && fields.some((f) => f.name === 'id') && data.id === undefined) {
      data.id = ctx.positionals[0];
    } else {
      throw new UsageError(`Unexpected argument "${ctx.positionals[0]}": ${name} takes its input as flags`, name);
    }
  }
  if (ctx.idempotencyKey && !def.mutates) {
    throw new UsageError(`${name} changes nothing, so --idempotency-key does not apply to it`, name);
  }
  const checked = def.input.safeParse(data);
  if (!checked.success) {
    throw new UsageError(`Invalid input for ${name}:\n  ${describeIssues(checked.error).join('\n  ')}`, name);
  }
  const result = await ctx
    .client()
    .call(name, data as never, ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {});
  ctx.out(ctx.json ? JSON.stringify(result, null, 2) : renderAny(result));
  return 0;
}
