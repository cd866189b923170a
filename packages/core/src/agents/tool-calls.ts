import { isOraError, type ToolCallRecord } from '@ora/contracts';
import { childSignal } from '../providers/router';
import type { ToolCallRequest } from '../providers/types';
import type { Db } from '../shared/deps';
import type { RunArtifacts, ToolContext, ToolDefinition } from './tools/tool';

/** What the model is told about a call, and what the run records of it. */
export interface ToolCallOutcome {
  content: string;
  isError: boolean;
  record: ToolCallRecord;
  artifacts: RunArtifacts | null;
  /** Time in the tool itself (its own work, not the runtime's). */
  toolMs: number;
}

const RESULT_LIMIT = 16_000;

/** A tool result as the model reads it: JSON, cut at a size that cannot flood its context. */
export function resultText(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return text.length > RESULT_LIMIT ? `${text.slice(0, RESULT_LIMIT)}… [truncated: ${text.length} characters]` : text;
}

function issuesOf(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
}

export interface ExecuteCallInput {
  db: Db;
  step: number;
  index: number;
  attempt: number;
  call: ToolCallRequest;
  /** Side-effecting calls earlier attempts of the task completed, by `step:index` (loadCompletedCalls). */
  completed: ReadonlyMap<string, { tool: string; result: unknown }>;
  /** The agent's tools by wire name: nothing else can be called, whatever the model was told. */
  allowed: ReadonlyMap<string, ToolDefinition>;
  context: Omit<ToolContext, 'callId' | 'actor'> & { actor: Omit<ToolContext['actor'], 'scopes'> };
  now: () => number;
}

/** The side-effecting calls earlier attempts of a task completed: loaded once per run. */
export async function loadCompletedCalls(
  db: Db,
  taskId: string,
): Promise<Map<string, { tool: string; result: unknown }>> {
  const rows = await db
    .selectFrom('agent_tool_calls')
    .select(['step', 'call_index', 'tool', 'result'])
    .where('task_id', '=', taskId)
    .where('status', '=', 'success')
    .execute();
  return new Map(rows.map((r) => [`${r.step}:${r.call_index}`, { tool: r.tool, result: r.result }]));
}

/**
 * Runs one tool call the model asked for. The model's output is untrusted: the tool must be one
 * of the agent's, the arguments must parse and pass the tool's schema, and the tool runs with
 * exactly its declared scopes. A side-effecting call is recorded under its durable id
 * (task, step, call) once it is over: a later attempt that reaches the same call with the same tool
 * gets the recorded result back instead of doing it again. (A crash between the side effect and
 * its record repeats the call on the next attempt: at least once, like any job.) Failures become error results the model can read and act on.
 */
export async function executeToolCall(input: ExecuteCallInput): Promise<ToolCallOutcome> {
  const { call, step, index, context } = input;
  const callId = `${context.task.id}:${step}:${index}`;
  const started = input.now();
  const fail = (message: string, args: unknown = call.arguments, toolName = call.name): ToolCallOutcome => ({
    content: JSON.stringify({ error: message }),
    isError: true,
    record: {
      id: callId,
      step,
      index,
      tool: toolName,
      arguments: args,
      error: message,
      replayed: false,
      durationMs: input.now() - started,
    },
    artifacts: null,
    toolMs: 0,
  });

  const tool = input.allowed.get(call.name);
  if (!tool) {
    const names = [...input.allowed.values()].map((t) => t.name).join(', ') || 'none';
    return fail(`No tool "${call.name}" is available to this agent (its tools: ${names}); the call was not made`);
  }
  let raw: unknown;
  try {
    raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    return fail(
      'The arguments are not valid JSON; send a JSON object matching the tool schema',
      call.arguments,
      tool.name,
    );
  }
  const parsed = tool.input.safeParse(raw);
  if (!parsed.success) return fail(`Invalid arguments: ${issuesOf(parsed.error)}`, raw, tool.name);
  const args = parsed.data;

  const ctx: ToolContext = { ...context, callId, actor: { ...context.actor, scopes: [...tool.scopes] } };
  const finish = (result: unknown, replayed: boolean, toolMs: number): ToolCallOutcome => ({
    content: resultText(result),
    isError: false,
    record: {
      id: callId,
      step,
      index,
      tool: tool.name,
      arguments: raw,
      result,
      error: null,
      replayed,
      durationMs: input.now() - started,
    },
    artifacts: tool.artifacts ? tool.artifacts(result as never, args as never) : null,
    toolMs,
  });

  if (tool.sideEffect) {
    const earlier = input.completed.get(`${step}:${index}`);
    if (earlier && earlier.tool === tool.name) return finish(earlier.result, true, 0);
  }

  const startedAt = context.clock.now();
  /** One write per side-effecting call, once it is over: its result is what a later attempt replays. */
  const record = (outcome: { status: 'success' | 'error'; result: string | null; error_message: string | null }) => {
    const values = {
      run_id: context.runId,
      attempt: input.attempt,
      tool: tool.name,
      arguments: JSON.stringify(raw ?? {}),
      ...outcome,
      started_at: startedAt,
      completed_at: context.clock.now(),
    };
    return input.db
      .insertInto('agent_tool_calls')
      .values({ task_id: context.task.id, step, call_index: index, ...values })
      .onConflict((oc) => oc.columns(['task_id', 'step', 'call_index']).doUpdateSet(values))
      .execute();
  };
  const toolStarted = input.now();
  const signal = childSignal(context.signal);
  try {
    const result = await tool.run({ ...ctx, signal: signal.signal }, args);
    const toolMs = input.now() - toolStarted;
    if (tool.sideEffect)
      await record({ status: 'success', result: JSON.stringify(result ?? null), error_message: null });
    return finish(result ?? null, false, toolMs);
  } catch (error) {
    if (context.signal.aborted) throw error;
    const message = isOraError(error)
      ? `${error.code}: ${error.message}`
      : `The tool failed: ${(error as Error).message ?? String(error)}`;
    if (!isOraError(error)) context.log.warn({ err: error, tool: tool.name, callId }, 'tool failed');
    if (tool.sideEffect) await record({ status: 'error', result: null, error_message: message });
    const failed = fail(message, raw, tool.name);
    failed.toolMs = input.now() - toolStarted;
    return failed;
  } finally {
    signal.dispose();
  }
}
