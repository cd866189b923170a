import type { OptionSpecs } from '../args';
import { toFlagName } from '../args';
import { type Command, stringOption } from '../command';
import { UsageError } from '../io';
import { table } from '../render';
import { watchTasks } from '../watch';
import { taskColumns } from './tasks';

const workflowLs: Command = {
  name: 'workflow ls',
  aliases: ['workflow list', 'workflows ls', 'workflows list'],
  group: 'Daily use',
  summary: 'The workflows this server can run, with their inputs',
  async run(ctx) {
    const { items } = await ctx.client().call('workflows.list', {});
    if (ctx.json) return ctx.out(JSON.stringify(items, null, 2));
    if (items.length === 0) return ctx.out('No workflows.');
    ctx.out(
      table(items, [
        { header: 'NAME', value: (w) => w.name },
        { header: 'VERSION', value: (w) => w.version },
        {
          header: 'INPUTS',
          value: (w) =>
            Object.entries(w.definition.input)
              .map(([name, spec]) => `--${toFlagName(name)}${spec.required ? '' : '?'}`)
              .join(' ') || '-',
        },
        { header: 'STEPS', value: (w) => w.definition.steps.length },
        { header: 'DESCRIPTION', value: (w) => w.description ?? w.definition.description, max: 70 },
      ]),
    );
    ctx.note(
      'Run one: `ora workflow run NAME --INPUT value [--watch]` (`ora workflow run NAME --help` lists its inputs).',
    );
  },
};

const runOptions: OptionSpecs = {
  watch: { type: 'boolean', description: 'Follow the run live until every step ends' },
  priority: { type: 'string', placeholder: 'N', description: '-1000..1000 (higher runs first)' },
  version: { type: 'string', placeholder: 'N', description: 'A stored version (default: the latest)' },
  input: { type: 'string', placeholder: 'JSON', description: 'All inputs as one JSON object (flags override)' },
};

function number(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new UsageError(`--${name} takes a whole number; got "${raw}"`, 'workflow run');
  return value;
}

const workflowRun: Command = {
  name: 'workflow run',
  aliases: ['workflows run'],
  group: 'Daily use',
  summary: "Start a workflow; its inputs are flags (--topic ...) read from the workflow's definition",
  usage: 'NAME [--INPUT value ...] [--watch] [--priority N]',
  options: runOptions,
  dynamicOptions: true,
  details:
    'Example: ora workflow run publish_post --topic "AI safety" --audience developers --watch\n' +
    'With --watch it exits 0 when every step succeeded, 1 otherwise.',
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name)
      throw new UsageError('workflow run needs a workflow name (`ora workflow ls` lists them)', 'workflow run');
    const client = ctx.client();
    const workflow = await client.call('workflows.get', {
      name,
      ...(number('version', stringOption(ctx, 'version')) !== undefined
        ? { version: number('version', stringOption(ctx, 'version')) }
        : {}),
    });
    const inputs = Object.entries(workflow.definition.input);
    const inputSpecs: OptionSpecs = Object.fromEntries(
      inputs.map(([input, spec]) => [
        toFlagName(input),
        {
          type: spec.type === 'boolean' ? 'boolean' : 'string',
          description: `${spec.type}${spec.required ? ', required' : ''}`,
        },
      ]),
    );
    if (ctx.values.help) {
      ctx.out(`ora workflow run ${name}: ${workflow.definition.description}\n\nInputs:`);
      const rows = inputs.map(([input, spec]) => [
        `--${toFlagName(input)}${spec.type === 'boolean' ? '' : ' VALUE'}`,
        `${spec.type}${spec.required ? ', required' : ''}`,
      ]);
      const width = Math.max(0, ...rows.map(([left]) => (left as string).length)) + 2;
      for (const [left, text] of rows) ctx.out(`  ${(left as string).padEnd(width)}${text}`);
      ctx.out('\nAlso: --watch, --priority N, --version N, --input JSON, --json, --idempotency-key KEY');
      return;
    }
    const { values, positionals } = ctx.parse(inputSpecs);
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`, 'workflow run');
    let input: Record<string, unknown> = {};
    const rawInput = values.input;
    if (typeof rawInput === 'string') {
      try {
        input = JSON.parse(rawInput);
      } catch {
        throw new UsageError('--input takes a JSON object, e.g. --input \'{"topic": "AI safety"}\'', 'workflow run');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) {
        throw new UsageError('--input takes a JSON object', 'workflow run');
      }
    }
    for (const [field, spec] of inputs) {
      const given = values[toFlagName(field)];
      if (given === undefined) continue;
      const raw = Array.isArray(given) ? given[given.length - 1] : given;
      if (spec.type === 'number') {
        const value = Number(raw);
        if (!Number.isFinite(value)) throw new UsageError(`--${toFlagName(field)} takes a number; got "${raw}"`);
        input[field] = value;
      } else input[field] = raw;
    }
    const missing = inputs.filter(([field, spec]) => spec.required && input[field] === undefined);
    if (missing.length) {
      throw new UsageError(
        `${name} needs ${missing.map(([field]) => `--${toFlagName(field)}`).join(', ')}`,
        `workflow run ${name}`,
      );
    }
    const priority = number('priority', stringOption(ctx, 'priority'));
    const version = number('version', stringOption(ctx, 'version'));
    const created = await client.call(
      'workflows.run',
      {
        name,
        input,
        ...(priority !== undefined ? { priority } : {}),
        ...(version !== undefined ? { version } : {}),
      },
      ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {},
    );
    if (ctx.values.watch) {
      if (!ctx.json)
        ctx.note(`Started ${name} v${workflow.version}: chain ${created.chainId}, ${created.tasks.length} steps.`);
      return watchTasks(ctx, { kind: 'chain', chainId: created.chainId }, { initial: created.tasks });
    }
    if (ctx.json) return ctx.out(JSON.stringify(created, null, 2));
    ctx.out(`Started ${name} v${workflow.version}: chain ${created.chainId}`);
    ctx.out(table(created.tasks, taskColumns));
    ctx.note(`Follow it: ora tasks watch ${created.tasks[0]?.id ?? ''} --chain`);
  },
};

export const workflowCommands: Command[] = [workflowLs, workflowRun];
