import type { Generated, Selectable } from 'kysely';

export interface TaskChainTable {
  id: string;
  title: string | null;
  workflow_name: string | null;
  /** bigint */
  token_budget: string | null;
  /** numeric(12,6) */
  cost_budget: string | null;
  tokens_used: Generated<string>;
  cost_used: Generated<string>;
  created_by_key_id: string | null;
  created_at: Generated<Date>;
}
export type TaskChainRow = Selectable<TaskChainTable>;

export interface ChainTables {
  task_chains: TaskChainTable;
}
