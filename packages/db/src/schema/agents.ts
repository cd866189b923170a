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
}
export type AgentRunRow = Selectable<AgentRunTable>;
export type NewAgentRunRow = Insertable<AgentRunTable>;
export type AgentRunRowUpdate = Updateable<AgentRunTable>;

export interface AgentTables {
  agents: AgentTable;
  agent_runs: AgentRunTable;
}
