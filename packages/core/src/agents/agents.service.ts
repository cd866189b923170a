import {
  type ActionData,
  type ActionOutput,
  type Agent,
  type AgentExecuteRequest,
  type AgentExecuteResponse,
  DelegationPlan,
  OraError,
  type ToolInfo,
  terminalStatuses,
} from '@ora/contracts';
import type { AgentRowUpdate, TaskRow } from '@ora/db';
import { recordAudit } from '../audit/audit';
import type { Actor, Clock, Db } from '../shared/deps';
import { createTaskGraph, type TaskDeps } from '../tasks/tasks.service';
import { agentConfigOf, agentRowToAgent, findAgentRow, runsOf } from './agents.repository';
import { builtinTools } from './tools/builtin-tools';
import type { ToolRegistry, ToolServices } from './tools/tool';

export interface AgentDeps {
  db: Db;
  clock: Clock;
  /** The tools agents may name (default: the built-in ones). */
  tools?: ToolRegistry;
  /** What this server can run (for `available` in agents.get); absent: every tool counts as available. */
  services?: ToolServices;
}

function scopedToAgent(actor: Actor, agentId: string): void {
  if (actor.agentId && actor.agentId !== agentId) {
    throw new OraError({ code: 'FORBIDDEN', message: 'A key bound to an agent can only see and run that agent' });
  }
}

export async function listAgents(
  deps: AgentDeps,
  actor: Actor,
  input: ActionData<'agents.list'>,
): Promise<ActionOutput<'agents.list'>> {
  let query = deps.db.selectFrom('agents').selectAll().orderBy('is_system').orderBy('slug');
  if (!input.includeInactive) query = query.where('is_active', '=', true);
  if (actor.agentId) query = query.where('id', '=', actor.agentId);
  return { items: (await query.execute()).map(agentRowToAgent) };
}

export function toolInfos(names: readonly string[], deps: Pick<AgentDeps, 'tools' | 'services'>): ToolInfo[] {
  const registry = deps.tools ?? builtinTools;
  return names.flatMap((name) => {
    const tool = registry.get(name);
    if (!tool) return [];
    return [
      {
        name: tool.name,
        description: tool.description,
        scopes: tool.scopes,
        sideEffect: tool.sideEffect,
        available: deps.services ? (tool.unavailable?.(deps.services) ?? null) === null : true,
      },
    ];
  });
}

export async function getAgent(
  deps: AgentDeps,
  actor: Actor,
  input: ActionData<'agents.get'>,
): Promise<ActionOutput<'agents.get'>> {
  const row = await findAgentRow(deps.db, input.agent);
  scopedToAgent(actor, row.id);
  const runs = await runsOf(deps.db, { agentId: row.id, limit: 10 });
  return {
    ...agentRowToAgent(row),
    availableTools: toolInfos(row.tools, deps),
    recentRuns: runs.map((r) => ({
      id: r.id,
      taskId: r.taskId,
      status: r.status,
      model: r.model,
      totalTokens: r.totalTokens,
      cost: r.cost,
      durationMs: r.durationMs,
      stopReason: r.stopReason,
      errorMessage: r.errorMessage,
      startedAt: r.startedAt,
    })),
  };
}

/** Changes an agent; tool names must be tools this server has (agents.get lists them). */
export async function updateAgent(deps: AgentDeps, actor: Actor, input: ActionData<'agents.update'>): Promise<Agent> {
  const registry = deps.tools ?? builtinTools;
  if (input.tools) {
    const unknown = input.tools.filter((t) => !registry.has(t));
    if (unknown.length) {
      throw new OraError({
        code: 'VALIDATION_ERROR',
        message: `Unknown tool(s) ${unknown.map((t) => `"${t}"`).join(', ')}; the tools are: ${[...registry.keys()].join(', ')}`,
        details: {
          issues: unknown.map((t) => ({ path: 'tools', message: `unknown tool ${t}`, code: 'unknown_tool' })),
        },
      });
    }
  }
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findAgentRow(trx, input.agent);
    scopedToAgent(actor, current.id);
    const changes: AgentRowUpdate = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.description !== undefined) changes.description = input.description;
    if (input.systemPrompt !== undefined) changes.system_prompt = input.systemPrompt;
    if (input.model !== undefined) changes.model = input.model;
    if (input.fallbackModels !== undefined) changes.fallback_models = [...new Set(input.fallbackModels)];
    if (input.tools !== undefined) changes.tools = [...new Set(input.tools)];
    if (input.config !== undefined)
      changes.config = JSON.stringify({ ...agentConfigOf(current.config), ...input.config });
    if (input.maxSteps !== undefined) changes.max_steps = input.maxSteps;
    if (input.maxTokens !== undefined) changes.max_tokens = input.maxTokens;
    if (input.maxCostUsd !== undefined) {
      changes.max_cost_usd = input.maxCostUsd === null ? null : String(input.maxCostUsd);
    }
    if (input.timeoutMs !== undefined) changes.timeout_ms = input.timeoutMs;
    if (input.isActive !== undefined) changes.is_active = input.isActive;
    if (Object.keys(changes).length === 0) return current;
    const updated = await trx
      .updateTable('agents')
      .set({ ...changes, updated_at: deps.clock.now() })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'agents.update',
      targetType: 'agent',
      targetId: current.id,
      details: { slug: current.slug, changed: Object.keys(changes) },
    });
    return updated;
  });
  return agentRowToAgent(row);
}

const DONE: readonly string[] = [...terminalStatuses, 'waiting'];

/** Polls a task until it ends (or waits for input), or `waitMs` passes; returns its row then. */
export async function waitForTask(db: Db, taskId: string, waitMs: number, signal?: AbortSignal): Promise<TaskRow> {
  const deadline = Date.now() + waitMs;
  let pause = 20;
  for (;;) {
    const row = await db.selectFrom('agent_tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
    const left = deadline - Date.now();
    if (DONE.includes(row.status) || left <= 0 || signal?.aborted) return row;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    pause = Math.min(250, Math.round(pause * 1.5));
  }
}

async function runResult(db: Db, row: TaskRow): Promise<ActionOutput<'agents.run'>> {
  const [run] = await runsOf(db, { taskId: row.id, limit: 1 });
  return {
    taskId: row.id,
    status: row.status,
    done: DONE.includes(row.status),
    output: row.output ?? null,
    errorMessage: row.error_message,
    tokensUsed: row.tokens_used,
    estimatedCost: row.estimated_cost === null ? null : Number(row.estimated_cost),
    run: run ?? null,
  };
}

/** Queues a task for the agent and waits up to waitMs for it: the result, or the task id to follow. */
export async function runAgent(
  deps: TaskDeps,
  actor: Actor,
  input: ActionData<'agents.run'>,
): Promise<ActionOutput<'agents.run'>> {
  const agent = await findAgentRow(deps.db, input.agent);
  scopedToAgent(actor, agent.id);
  if (!agent.is_active) {
    throw new OraError({
      code: 'CONFLICT',
      message: `Agent "${agent.slug}" is inactive; activate it with agents.update`,
    });
  }
  const created = await createTaskGraph(
    deps,
    actor,
    [
      {
        agent: agent.id,
        taskType: input.taskType,
        title: input.title ?? `${agent.name}: direct run`,
        input: input.input,
        ...(input.instructions !== undefined ? { instructions: input.instructions } : {}),
        ...(input.modelOverride ? { modelOverride: input.modelOverride } : {}),
        ...(input.tokenBudget ? { tokenBudget: input.tokenBudget } : {}),
        ...(input.costBudget !== undefined ? { costBudget: input.costBudget } : {}),
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
      },
    ],
    { source: 'api', ...(input.parentTaskId ? { parentTaskId: input.parentTaskId } : {}) },
  );
  const task = created.tasks[0] as { id: string };
  return runResult(deps.db, await waitForTask(deps.db, task.id, input.waitMs));
}

const PRIORITIES = { low: -10, normal: 0, high: 10, urgent: 100 } as const;

/**
 * When a task of this priority queued now should start: at once while workers have room, else
 * after the tasks ahead of it, at the recent average task duration per wave of `concurrency`.
 */
export async function estimateStart(
  db: Db,
  now: Date,
  priority: number,
  concurrency: number,
  exceptId?: string,
): Promise<Date> {
  let ahead = db
    .selectFrom('agent_tasks')
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere('status', '=', 'running').as('running'),
      eb.fn
        .countAll<string>()
        .filterWhere((w) => w.and([w('status', '=', 'queued'), w('priority', '>=', priority)]))
        .as('queued'),
    ])
    .where('status', 'in', ['running', 'queued']);
  if (exceptId) ahead = ahead.where('id', '!=', exceptId);
  const counts = await ahead.executeTakeFirstOrThrow();
  const busy = Number(counts.running) + Number(counts.queued);
  if (busy < concurrency) return now;
  const recent = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('agent_tasks')
        .select('duration_ms')
        .where('status', '=', 'success')
        .where('duration_ms', 'is not', null)
        // The newest by creation, read backwards along idx_tasks_created until 50 are found: by
        // completion, every successful task ever run would be sorted to find them.
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(50)
        .as('recent'),
    )
    .select((eb) => eb.fn.avg<string>('duration_ms').as('avg'))
    .executeTakeFirst();
  const averageMs = recent?.avg ? Number(recent.avg) : 30_000;
  const waves = Math.floor((busy - concurrency) / concurrency) + 1;
  return new Date(now.getTime() + waves * averageMs);
}

/** `POST /api/agent` `execute`: queues a run of the agent and says when it should start. */
export async function executeAgent(
  deps: TaskDeps,
  actor: Actor,
  request: AgentExecuteRequest,
  options: { concurrency: number },
): Promise<AgentExecuteResponse> {
  const agent = await findAgentRow(deps.db, request.agentSlug);
  scopedToAgent(actor, agent.id);
  if (!agent.is_active) {
    throw new OraError({
      code: 'CONFLICT',
      message: `Agent "${agent.slug}" is inactive; activate it with agents.update`,
    });
  }
  const o = request.options;
  const priority = typeof o.priority === 'number' ? o.priority : PRIORITIES[o.priority ?? 'normal'];
  const now = deps.clock.now();
  const created = await createTaskGraph(
    deps,
    actor,
    [
      {
        agent: agent.id,
        taskType: o.taskType ?? 'agent.run',
        title: o.title ?? `${agent.name}: run requested through /api/agent`,
        input: request.input,
        priority,
        ...(o.timeout ? { deadlineAt: new Date(now.getTime() + o.timeout).toISOString() } : {}),
        ...(o.modelOverride ? { modelOverride: o.modelOverride } : {}),
        ...(o.tokenBudget ? { tokenBudget: o.tokenBudget } : {}),
        ...(o.costBudget !== undefined ? { costBudget: o.costBudget } : {}),
      },
    ],
    { source: 'api', ...(o.parentTaskId ? { parentTaskId: o.parentTaskId } : {}) },
  );
  const task = created.tasks[0] as { id: string; status: string };
  const start = await estimateStart(deps.db, now, priority, options.concurrency, task.id);
  return { taskId: task.id, status: task.status, estimatedStart: start.toISOString() };
}

/**
 * `ora.delegate`: the `ora` planner turns a request into a plan (a workflow with its input, or a
 * DAG of steps). With execute: false the plan is only returned; with execute: true the planner's
 * delegate call also creates the tasks, in the planner task's chain.
 */
export async function delegateToOra(
  deps: TaskDeps,
  actor: Actor,
  input: ActionData<'ora.delegate'>,
): Promise<ActionOutput<'ora.delegate'>> {
  const planner = await findAgentRow(deps.db, 'ora');
  const team = await deps.db
    .selectFrom('agents')
    .select(['slug', 'name', 'description'])
    .where('is_active', '=', true)
    .where('is_system', '=', false)
    .orderBy('slug')
    .execute();
  const created = await createTaskGraph(
    deps,
    actor,
    [
      {
        agent: planner.id,
        taskType: 'ora.plan',
        title: `Plan: ${input.request.length > 80 ? `${input.request.slice(0, 79)}…` : input.request}`,
        description: input.request,
        input: {
          request: input.request,
          delegateMode: input.execute ? 'execute' : 'plan',
          agents: team.map((a) => ({ slug: a.slug, name: a.name, does: a.description })),
          ...(input.context ? { context: input.context } : {}),
        },
        ...(input.modelOverride ? { modelOverride: input.modelOverride } : {}),
      },
    ],
    { source: 'api' },
  );
  const task = created.tasks[0] as { id: string };
  const row = await waitForTask(deps.db, task.id, input.waitMs);
  const [run] = await runsOf(deps.db, { taskId: row.id, limit: 1 });
  const output = (row.output ?? {}) as {
    plan?: unknown;
    text?: unknown;
    delegated?: { chainId: string; taskIds: string[] };
  };
  const plan = DelegationPlan.safeParse(output.plan);
  return {
    taskId: row.id,
    status: row.status,
    done: DONE.includes(row.status),
    plan: plan.success ? plan.data : null,
    summary: typeof output.text === 'string' ? output.text : null,
    created: output.delegated ?? null,
    errorMessage: row.error_message,
    run: run ?? null,
  };
}
