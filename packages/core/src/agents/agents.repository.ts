import {
  type Agent,
  AgentConfig,
  type AgentRun,
  type ModelAttempt,
  OraError,
  StopReason,
  type ToolCallRecord,
  type TranscriptEntry,
} from '@ora/contracts';
import type { AgentRow, AgentRunRow } from '@ora/db';
import { z } from 'zod';
import type { DbOrTx } from '../shared/deps';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The stored config, as far as it is valid (an unknown or bad field is dropped, not fatal). */
export function agentConfigOf(value: unknown): AgentConfig {
  const parsed = AgentConfig.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const config: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(AgentConfig.shape)) {
    const v = (value as Record<string, unknown> | null)?.[name];
    if (v !== undefined && (field as z.ZodType).safeParse(v).success) config[name] = v;
  }
  return config as AgentConfig;
}

export function agentRowToAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    role: row.role,
    systemPrompt: row.system_prompt,
    model: row.model,
    fallbackModels: row.fallback_models,
    tools: row.tools,
    config: agentConfigOf(row.config),
    maxSteps: row.max_steps,
    maxTokens: row.max_tokens,
    maxCostUsd: row.max_cost_usd === null ? null : Number(row.max_cost_usd),
    timeoutMs: row.timeout_ms,
    isActive: row.is_active,
    isSystem: row.is_system,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const asArray = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export function agentRunRowToRun(row: AgentRunRow, agentSlug: string | null = null): AgentRun {
  const stop = StopReason.safeParse(row.stop_reason);
  return {
    id: row.id,
    agentId: row.agent_id,
    agentSlug,
    taskId: row.task_id,
    attempt: row.attempt,
    status: row.status,
    input: row.input ?? {},
    output: row.output ?? null,
    transcript: asArray<TranscriptEntry>(row.transcript),
    toolCalls: asArray<ToolCallRecord>(row.tool_calls),
    provider: row.provider,
    model: row.model,
    requestedModel: row.requested_model,
    attempts: asArray<ModelAttempt>(row.attempts),
    steps: row.steps,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    totalTokens: row.total_tokens,
    cost: Number(row.cost),
    durationMs: row.duration_ms,
    providerMs: row.provider_ms,
    stopReason: stop.success ? stop.data : null,
    errorMessage: row.error_message,
    startedAt: row.started_at.toISOString(),
    completedAt: iso(row.completed_at),
  };
}

/** Runs with their agent's slug, oldest first. */
export async function runsOf(
  db: DbOrTx,
  where: { taskId?: string; agentId?: string; limit?: number },
): Promise<AgentRun[]> {
  let query = db
    .selectFrom('agent_runs as r')
    .leftJoin('agents as a', 'a.id', 'r.agent_id')
    .selectAll('r')
    .select('a.slug as agent_slug');
  if (where.taskId) query = query.where('r.task_id', '=', where.taskId);
  if (where.agentId) query = query.where('r.agent_id', '=', where.agentId);
  query = where.limit
    ? query.orderBy('r.started_at', 'desc').limit(where.limit)
    : query.orderBy('r.started_at', 'asc').orderBy('r.id');
  const rows = await query.execute();
  return rows.map(({ agent_slug, ...row }) => agentRunRowToRun(row as AgentRunRow, agent_slug ?? null));
}

/** An agent by slug or id, or NOT_FOUND naming where the list is. */
export async function findAgentRow(db: DbOrTx, ref: string): Promise<AgentRow> {
  const byId = z.uuid().safeParse(ref).success;
  const row = await db
    .selectFrom('agents')
    .selectAll()
    .where((eb) => (byId ? eb.or([eb('id', '=', ref), eb('slug', '=', ref)]) : eb('slug', '=', ref)))
    .executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No agent "${ref}"; agents.list shows them` });
  return row;
}
