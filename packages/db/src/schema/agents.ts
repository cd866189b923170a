import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface AgentTable {
  id: Generated<string>;
  slug: string;
  name: string;
  description: string | null;
  role: string | null;
  system_prompt: Generated<string>;
  /** `provider/model`, e.g. `openai/gpt-4o-mini`; null for system agents that call no model. */
  model: string | null;
  fallback_models: Generated<string[]>;
  tools: Generated<string[]>;
  config: Generated<unknown>;
  max_steps: Generated<number>;
  max_tokens: number | null;
  /** numeric(12,6) */
  max_cost_usd: string | null;
  timeout_ms: Generated<number>;
  is_active: Generated<boolean>;
  is_system: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type AgentRow = Selectable<AgentTable>;
export type NewAgentRow = Insertable<AgentTable>;
export type AgentRowUpdate = Updateable<AgentTable>;

export interface AgentRunTable {
  id: Generated<string>;
  agent_id: string;
  task_id: string | null;
  status: Generated<'running' | 'success' | 'error' | 'cancelled'>;
  input: Generated<unknown>;
  output: unknown | null;
  transcript: Generated<unknown>;
  tool_calls: Generated<unknown>;
  provider: string | null;
  model: string | null;
  /** Every provider call of the run, fallbacks included. */
  attempts: Generated<unknown>;
  prompt_tokens: Generated<number>;
  completion_tokens: Generated<number>;
  total_tokens: Generated<number>;
  /** numeric(12,6), in USD */
  cost: Generated<string>;
  duration_ms: number | null;
  error_message: string | null;
  started_at: Generated<Date>;
  completed_at: Date | null;
  created_at: Generated<Date>;
  /** The task attempt this run was. */
  attempt: number | null;
  steps: Generated<number>;
  /** completed, max_steps, token_budget, cost_budget, timeout, cancelled, error, no_provider. */
  stop_reason: string | null;
  /** The model the task asked for (tasks.retry's modelOverride), when it did. */
  requested_model: string | null;
  /** Time spent inside provider calls (and their retry waits). */
  provider_ms: number | null;
}
export type AgentRunRow = Selectable<AgentRunTable>;
export type NewAgentRunRow = Insertable<AgentRunTable>;
export type AgentRunRowUpdate = Updateable<AgentRunTable>;

/** One tool call of a task, durable across attempts: (task, step, call) is its id. */
export interface AgentToolCallTable {
  id: Generated<string>;
  task_id: string;
  step: number;
  call_index: number;
  run_id: string | null;
  attempt: number;
  tool: string;
  arguments: Generated<unknown>;
  status: 'success' | 'error';
  result: unknown | null;
  error_message: string | null;
  started_at: Date;
  completed_at: Date;
}
export type AgentToolCallRow = Selectable<AgentToolCallTable>;

export interface AgentTables {
  agents: AgentTable;
  agent_runs: AgentRunTable;
  agent_tool_calls: AgentToolCallTable;
}
