import type { Task, TaskStatus } from '@ora/contracts';
import { TaskStatus as TaskStatusSchema } from '@ora/contracts';
import { type Command, type CommandContext, listOption, stringOption } from '../command';
import { UsageError } from '../io';
import { fields, shortTime, table } from '../render';
import { watchTasks } from '../watch';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function taskId(ctx: CommandContext, command: string): string {
  const id = ctx.positionals[0];
  if (!id) throw new UsageError(`${command} needs a task id (\`ora tasks ls\` shows them)`, command);
  if (!uuid.test(id)) throw new UsageError(`"${id}" is not a task id (a UUID; \`ora tasks ls\` shows them)`, command);
  if (ctx.positionals.length > 1) throw new UsageError(`${command} takes one task id`, command);
  return id;
}

/** `2h`, `30m`, `7d` ago, or an ISO time. */
export function since(value: string): string {
  const relative = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(relative[1]) * unit * 1000).toISOString();
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--since takes a time (ISO 8601) or an age like 30m, 2h, 7d`);
  return date.toISOString();
}

function limitOption(ctx: CommandContext, max: number): number | undefined {
  const raw = stringOption(ctx, 'limit');
  if (raw === undefined) return undefined;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new UsageError(`--limit is a number from 1 to ${max}`);
  return limit;
}

export const taskColumns = [
  { header: 'ID', value: (t: Task) => t.id },
  { header: 'STATUS', value: (t: Task) => t.status },
  { header: 'TYPE', value: (t: Task) => t.taskType, max: 24 },
  { header: 'AGENT', value: (t: Task) => t.agentSlug ?? 'system' },
  { header: 'TRIES', value: (t: Task) => `${t.attemptCount}/${t.maxAttempts}` },
  { header: 'UPDATED', value: (t: Task) => t.updatedAt },
  { header: 'TITLE', value: (t: Task) => t.title, max: 60 },
];

const tasksLs: Command = {
  name: 'tasks ls',
  aliases: ['tasks list'],
  group: 'Daily use',
  summary: 'List tasks, newest first, with filters',
  usage: '[--status S[,S]] [--agent SLUG] [--type T] [--chain ID] [--since 2h] [--limit N]',
  options: {
    status: { type: 'string', multiple: true, placeholder: 'S[,S]', description: TaskStatusSchema.options.join(', ') },
    agent: { type: 'string', placeholder: 'SLUG', description: 'Agent slug or id' },
    type: { type: 'string', placeholder: 'TYPE', description: 'Task type, e.g. write_post' },
    chain: { type: 'string', placeholder: 'ID', description: 'Only the tasks of this chain' },
    parent: { type: 'string', placeholder: 'ID', description: 'Only the subtasks of this task' },
    since: { type: 'string', placeholder: 'AGE|TIME', description: 'Created after: 30m, 2h, 7d or an ISO time' },
    limit: { type: 'string', placeholder: 'N', description: '1..200 (default 50)' },
    cursor: { type: 'string', placeholder: 'CURSOR', description: 'The next page (printed under the table)' },
  },
  async run(ctx) {
    const statuses = listOption(ctx, 'status');
    for (const status of statuses ?? []) {
      if (!TaskStatusSchema.safeParse(status).success) {
        throw new UsageError(
          `--status must be one of ${TaskStatusSchema.options.join(', ')}; got "${status}"`,
          'tasks ls',
        );
      }
    }
    const page = await ctx.client().call('tasks.list', {
      ...(statuses ? { status: statuses as TaskStatus[] } : {}),
      ...(stringOption(ctx, 'agent') ? { agent: stringOption(ctx, 'agent') } : {}),
      ...(stringOption(ctx, 'type') ? { taskType: stringOption(ctx, 'type') } : {}),
      ...(stringOption(ctx, 'chain') ? { chainId: stringOption(ctx, 'chain') } : {}),
      ...(stringOption(ctx, 'parent') ? { parentTaskId: stringOption(ctx, 'parent') } : {}),
      ...(stringOption(ctx, 'since') ? { createdAfter: since(stringOption(ctx, 'since') as string) } : {}),
      ...(limitOption(ctx, 200) ? { limit: limitOption(ctx, 200) } : {}),
      ...(stringOption(ctx, 'cursor') ? { cursor: stringOption(ctx, 'cursor') } : {}),
    });
    if (ctx.json) return ctx.out(JSON.stringify(page, null, 2));
    if (page.items.length === 0) {
      ctx.out('No tasks match. Start one: `ora workflow run publish_post --topic "..."` or `ora tasks.create --help`.');
      return;
    }
    ctx.out(table(page.items, taskColumns));
    if (page.nextCursor) ctx.note(`More: add --cursor ${page.nextCursor}`);
  },
};

const tasksGet: Command = {
  name: 'tasks get',
  aliases: ['tasks show'],
  group: 'Daily use',
  summary: 'One task: state, dependencies, event log and runs',
  usage: 'ID',
  async run(ctx) {
    const task = await ctx.client().call('tasks.get', { id: taskId(ctx, 'tasks get') });
    if (ctx.json) return ctx.out(JSON.stringify(task, null, 2));
    const duration = task.durationMs != null ? `${(task.durationMs / 1000).toFixed(1)} s` : null;
    ctx.out(
      fields([
        ['id', task.id],
        ['title', task.title],
        ['status', task.statusMessage ? `${task.status} (${task.statusMessage})` : task.status],
        ['type', task.taskType],
        ['agent', task.agentSlug ?? 'system'],
        ['chain', task.chainId],
        ...(task.workflowName ? [['workflow', `${task.workflowName} v${task.workflowVersion}`] as const] : []),
        ['attempts', `${task.attemptCount}/${task.maxAttempts}`],
        ['priority', task.priority],
        ...(task.modelOverride ? [['model', task.modelOverride] as const] : []),
        ['tokens', task.tokensUsed],
        ['cost (USD)', task.estimatedCost],
        ['duration', duration],
        ['created', task.createdAt],
        ['started', task.startedAt],
        ['completed', task.completedAt],
        ...(task.errorMessage ? [['error', task.errorMessage] as const] : []),
      ]),
    );
    if (task.output !== null && task.output !== undefined) {
      const output = JSON.stringify(task.output);
      ctx.out(`output:     ${output.length > 300 ? `${output.slice(0, 299)}…` : output}`);
    }
    const related = [
      ...task.dependencies.map((t) => ({ ...t, relation: 'needs' })),
      ...task.dependents.map((t) => ({ ...t, relation: 'feeds' })),
    ];
    if (related.length) {
      ctx.out('\nRelated:');
      ctx.out(
        table(related, [
          { header: '', value: (r) => r.relation },
          { header: 'ID', value: (r) => r.id },
          { header: 'STATUS', value: (r) => r.status },
          { header: 'TITLE', value: (r) => r.title },
        ]),
      );
    }
    if (task.events.length) {
      ctx.out('\nEvents:');
      ctx.out(
        table(task.events, [
          { header: 'AT', value: (e) => e.createdAt },
          { header: 'CHANGE', value: (e) => `${e.fromStatus ?? '(new)'} -> ${e.toStatus}` },
          { header: 'TRY', value: (e) => e.attempt },
          { header: 'MESSAGE', value: (e) => e.message, max: 80 },
        ]),
      );
    }
    if (task.runs.length) {
      ctx.out('\nRuns:');
      ctx.out(
        table(task.runs, [
          { header: 'RUN', value: (r) => r.id },
          { header: 'STATUS', value: (r) => r.status },
          { header: 'MODEL', value: (r) => r.model ?? r.requestedModel },
          { header: 'STEPS', value: (r) => r.steps },
          { header: 'TOKENS', value: (r) => r.totalTokens },
          { header: 'COST', value: (r) => r.cost },
          { header: 'MS', value: (r) => r.durationMs },
          { header: 'STARTED', value: (r) => shortTime(r.startedAt) },
        ]),
      );
    }
  },
};

const tasksWatch: Command = {
  name: 'tasks watch',
  aliases: ['tasks follow'],
  group: 'Daily use',
  summary: 'Follow a task (or its whole chain) live until it ends; without an id, every task event',
  usage: '[ID] [--chain]',
  options: { chain: { type: 'boolean', description: "Follow every task of the task's chain" } },
  details:
    'Exits 0 when every followed task succeeded, 1 when one failed, was cancelled or expired, 130 on Ctrl-C.\n' +
    'With --json, prints each event as one JSON line and a last {"type": "watch.done"} line.',
  async run(ctx) {
    if (ctx.positionals.length === 0) {
      if (ctx.values.chain) throw new UsageError('--chain needs a task id', 'tasks watch');
      return watchTasks(ctx, { kind: 'all' });
    }
    const id = taskId(ctx, 'tasks watch');
    const task = await ctx.client().call('tasks.get', { id });
    return ctx.values.chain
      ? watchTasks(ctx, { kind: 'chain', chainId: task.chainId })
      : watchTasks(ctx, { kind: 'task', id }, { initial: [task] });
  },
};

function changed(ctx: CommandContext, task: Task, verb: string): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(task, null, 2));
    return;
  }
  ctx.out(
    `${verb} ${task.id} "${task.title}": now ${task.status}${task.statusMessage ? ` (${task.statusMessage})` : ''}`,
  );
}

const tasksCancel: Command = {
  name: 'tasks cancel',
  group: 'Daily use',
  summary: 'Cancel a task (a running one is told to stop); its dependents are cancelled too',
  usage: 'ID [--reason TEXT]',
  options: { reason: { type: 'string', placeholder: 'TEXT' } },
  async run(ctx) {
    const reason = stringOption(ctx, 'reason');
    const task = await ctx
      .client()
      .call(
        'tasks.cancel',
        { id: taskId(ctx, 'tasks cancel'), ...(reason ? { reason } : {}) },
        ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {},
      );
    changed(ctx, task, 'Cancelled');
  },
};

const tasksApprove: Command = {
  name: 'tasks approve',
  group: 'Daily use',
  summary: 'Approve a task waiting for approval (--reject cancels it)',
  usage: 'ID [--reject] [--reason TEXT]',
  options: {
    reject: { type: 'boolean', description: 'Refuse: the task is cancelled' },
    reason: { type: 'string', placeholder: 'TEXT' },
  },
  async run(ctx) {
    const reason = stringOption(ctx, 'reason');
    const task = await ctx
      .client()
      .call(
        'tasks.approve',
        { id: taskId(ctx, 'tasks approve'), approved: ctx.values.reject !== true, ...(reason ? { reason } : {}) },
        ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {},
      );
    changed(ctx, task, ctx.values.reject ? 'Rejected' : 'Approved');
  },
};

const tasksRetry: Command = {
  name: 'tasks retry',
  group: 'Daily use',
  summary: 'Run a failed, cancelled or expired task again, optionally on another model',
  usage: 'ID [--model provider/model] [--watch]',
  options: {
    model: { type: 'string', placeholder: 'PROVIDER/MODEL', description: 'e.g. anthropic/claude-sonnet-4-5' },
    watch: { type: 'boolean', description: 'Follow it until it ends' },
  },
  async run(ctx) {
    const model = stringOption(ctx, 'model');
    const task = await ctx
      .client()
      .call(
        'tasks.retry',
        { id: taskId(ctx, 'tasks retry'), ...(model ? { modelOverride: model } : {}) },
        ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {},
      );
    if (ctx.values.watch) {
      if (!ctx.json) ctx.note(`Retrying ${task.id} "${task.title}"${model ? ` on ${model}` : ''}...`);
      return watchTasks(ctx, { kind: 'task', id: task.id }, { initial: [task] });
    }
    changed(ctx, task, 'Retrying');
  },
};

export const tasksCommands: Command[] = [tasksLs, tasksGet, tasksWatch, tasksCancel, tasksApprove, tasksRetry];
