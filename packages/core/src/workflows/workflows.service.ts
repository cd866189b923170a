import { type ActionData, type ActionOutput, OraError, type TaskStepInput, WorkflowDefinition } from '@ora/contracts';
import type { WorkflowRow } from '@ora/db';
import type { Actor, Db, DbOrTx } from '../shared/deps';
import { createTaskGraph, type TaskDeps } from '../tasks/tasks.service';
import { builtinWorkflows } from './builtin';

/** Stores the shipped workflow versions that are not in the database yet (safe from many processes). */
export async function ensureBuiltinWorkflows(db: Db): Promise<void> {
  await db
    .insertInto('workflows')
    .values(
      builtinWorkflows.map((w) => ({
        name: w.name,
        version: w.version,
        description: w.definition.description,
        definition: JSON.stringify(w.definition),
      })),
    )
    .onConflict((oc) => oc.columns(['name', 'version']).doNothing())
    .execute();
}

function rowToWorkflow(row: WorkflowRow): ActionOutput<'workflows.get'> {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    description: row.description,
    definition: WorkflowDefinition.parse(row.definition),
    isActive: row.is_active,
    createdAt: row.created_at.toISOString(),
  };
}

async function findWorkflow(db: DbOrTx, name: string, version?: number): Promise<WorkflowRow> {
  let query = db.selectFrom('workflows').selectAll().where('name', '=', name).where('is_active', '=', true);
  query = version !== undefined ? query.where('version', '=', version) : query.orderBy('version', 'desc').limit(1);
  const row = await query.executeTakeFirst();
  if (!row) {
    throw new OraError({
      code: 'NOT_FOUND',
      message: `No workflow "${name}"${version !== undefined ? ` version ${version}` : ''}; workflows.list shows them`,
    });
  }
  return row;
}

export async function listWorkflows(deps: { db: Db }): Promise<ActionOutput<'workflows.list'>> {
  const rows = await deps.db
    .selectFrom('workflows')
    .selectAll()
    .where('is_active', '=', true)
    .orderBy('name')
    .orderBy('version', 'desc')
    .execute();
  const latest = rows.filter((row, i) => rows.findIndex((r) => r.name === row.name) === i);
  return { items: latest.map(rowToWorkflow) };
}

export async function getWorkflow(
  deps: { db: Db },
  input: ActionData<'workflows.get'>,
): Promise<ActionOutput<'workflows.get'>> {
  return rowToWorkflow(await findWorkflow(deps.db, input.name, input.version));
}

/** Replaces {{input.x}} in strings, deep in objects and arrays; a placeholder with no value is dropped. */
export function renderTemplate(value: unknown, input: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{input\.(\w+)\}\}$/.exec(value);
    if (whole) return input[whole[1] as string];
    return value.replace(/\{\{input\.(\w+)\}\}/g, (_, key: string) =>
      input[key] === undefined ? '' : String(input[key]),
    );
  }
  if (Array.isArray(value)) return value.map((v) => renderTemplate(v, input));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, renderTemplate(v, input)] as const)
        .filter(([, v]) => v !== undefined),
    );
  }
  return value;
}

function checkInput(definition: WorkflowDefinition, input: Record<string, unknown>, name: string): void {
  const issues: Array<{ path: string; message: string; code: string }> = [];
  for (const [key, spec] of Object.entries(definition.input)) {
    const value = input[key];
    if (value === undefined || value === null || value === '') {
      if (spec.required) issues.push({ path: `input.${key}`, message: `required by ${name}`, code: 'required' });
    } else if (typeof value !== spec.type) {
      issues.push({ path: `input.${key}`, message: `expected a ${spec.type}`, code: 'invalid_type' });
    }
  }
  for (const key of Object.keys(input)) {
    if (!(key in definition.input))
      issues.push({ path: `input.${key}`, message: `${name} takes no "${key}"`, code: 'unrecognized_key' });
  }
  if (issues.length) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `Invalid input for workflow ${name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      details: { issues },
    });
  }
}

export async function runWorkflow(
  deps: TaskDeps,
  actor: Actor,
  input: ActionData<'workflows.run'>,
  options: { idempotencyKey?: string; parentTaskId?: string; delegatedBy?: string } = {},
): Promise<ActionOutput<'workflows.run'>> {
  const row = await findWorkflow(deps.db, input.name, input.version);
  const definition = WorkflowDefinition.parse(row.definition);
  checkInput(definition, input.input, row.name);
  const steps = definition.steps.map(
    (step) =>
      ({
        ...step,
        title: String(renderTemplate(step.title, input.input)).trim() || step.ref,
        input: renderTemplate(step.input ?? {}, input.input) as Record<string, unknown>,
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
      }) as TaskStepInput,
  );
  return createTaskGraph(deps, actor, steps, {
    workflow: { name: row.name, version: row.version },
    chain: { title: `${row.name} v${row.version}`, ...input.chain },
    ...(input.source ? { source: input.source } : {}),
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    // An agent's delegation: the workflow joins the delegating task's chain (and its budget).
    ...(options.parentTaskId ? { parentTaskId: options.parentTaskId } : {}),
    ...(options.delegatedBy ? { delegatedBy: options.delegatedBy } : {}),
  });
}
