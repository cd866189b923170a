import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface TaskTable {
  id: Generated<string>;
  assigned_to: string | null;
  /** null: delegated by ORA (the desktop). */
  delegated_by: string | null;
  task_type: string;
  title: string;
  description: string | null;
  instructions: unknown | null;
  input: Generated<unknown>;
  output: unknown | null;
  priority: Generated<number>;
  scheduled_for: Date | null;
  deadline_at: Date | null;
  status: Generated<'pending' | 'queued' | 'running' | 'waiting' | 'success' | 'error' | 'cancelled' | 'expired'>;
  status_message: string | null;
  error_message: string | null;
  attempt_count: Generated<number>;
  max_attempts: Generated<number>;
  last_attempt_at: Date | null;
  /** Earliest time of the next attempt (retry backoff). */
  next_attempt_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  duration_ms: number | null;
  tokens_used: number | null;
  /** numeric(10,6), in USD */
  estimated_cost: string | null;
  token_budget: number | null;
  /** numeric(12,6), in USD */
  cost_budget: string | null;
  /** `provider/model` used instead of the agent's model. */
  model_override: string | null;
  parent_task_id: string | null;
  /** Groups the tasks of one DAG (the root task's id); no foreign key. */
  chain_id: string | null;
  related_run_id: string | null;
  /** No foreign key: posts live in another migration. */
  related_post_id: string | null;
  workflow_name: string | null;
  workflow_version: number | null;
  requires_approval: Generated<boolean>;
  approved_at: Date | null;
  approved_by_key_id: string | null;
  run_anyway_on_dependency_failure: Generated<boolean>;
  /** Some task depends (or once depended) on this one: its success releases dependents. */
  has_dependents: Generated<boolean>;
  /** Fences every write of the current attempt: a worker that lost its lease no longer matches. */
  lease_token: string | null;
  lease_expires_at: Date | null;
  locked_by: string | null;
  cancel_requested_at: Date | null;
  cancel_reason: string | null;
  source: Generated<'server' | 'desktop' | 'api' | 'webhook' | 'schedule'>;
  created_by_key_id: string | null;
  /** Unique per created_by_key_id (null counts as one owner). */
  idempotency_key: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type TaskRow = Selectable<TaskTable>;
export type NewTaskRow = Insertable<TaskTable>;
export type TaskRowUpdate = Updateable<TaskTable>;

export interface TaskDependencyTable {
  task_id: string;
  depends_on_task_id: string;
}
export type TaskDependencyRow = Selectable<TaskDependencyTable>;
export type NewTaskDependencyRow = Insertable<TaskDependencyTable>;
export type TaskDependencyRowUpdate = Updateable<TaskDependencyTable>;

export interface TaskEventTable {
  /** bigserial, as a string */
  id: Generated<string>;
  task_id: string;
  /** null on the event that creates the task. */
  from_status: string | null;
  to_status: string;
  message: string | null;
  details: unknown | null;
  attempt: number | null;
  created_at: Generated<Date>;
}
export type TaskEventRow = Selectable<TaskEventTable>;
export type NewTaskEventRow = Insertable<TaskEventTable>;
export type TaskEventRowUpdate = Updateable<TaskEventTable>;

export interface TaskDispatchOutboxTable {
  /** bigserial, as a string */
  id: Generated<string>;
  task_id: string;
  job_name: string;
  payload: Generated<unknown>;
  available_at: Generated<Date>;
  created_at: Generated<Date>;
}
export type TaskDispatchOutboxRow = Selectable<TaskDispatchOutboxTable>;
export type NewTaskDispatchOutboxRow = Insertable<TaskDispatchOutboxTable>;
export type TaskDispatchOutboxRowUpdate = Updateable<TaskDispatchOutboxTable>;

export interface TaskTables {
  agent_tasks: TaskTable;
  task_dependencies: TaskDependencyTable;
  task_events: TaskEventTable;
  task_dispatch_outbox: TaskDispatchOutboxTable;
}
