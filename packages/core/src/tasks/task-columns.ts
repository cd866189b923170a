import type { TaskRow } from '@ora/db';
import { sql } from 'kysely';

/** Every agent_tasks column (the compiler checks none of TaskRow is missing). */
const TASK_COLUMNS = [
  'id',
  'assigned_to',
  'delegated_by',
  'task_type',
  'title',
  'description',
  'instructions',
  'input',
  'output',
  'priority',
  'scheduled_for',
  'deadline_at',
  'status',
  'status_message',
  'error_message',
  'attempt_count',
  'max_attempts',
  'last_attempt_at',
  'next_attempt_at',
  'started_at',
  'completed_at',
  'duration_ms',
  'tokens_used',
  'estimated_cost',
  'token_budget',
  'cost_budget',
  'model_override',
  'parent_task_id',
  'chain_id',
  'related_run_id',
  'related_post_id',
  'workflow_name',
  'workflow_version',
  'requires_approval',
  'approved_at',
  'approved_by_key_id',
  'run_anyway_on_dependency_failure',
  'has_dependents',
  'lease_token',
  'lease_expires_at',
  'locked_by',
  'cancel_requested_at',
  'cancel_reason',
  'source',
  'created_by_key_id',
  'idempotency_key',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof TaskRow>;
const everyColumn: Exclude<keyof TaskRow, (typeof TASK_COLUMNS)[number]> extends never ? true : never = true;
void everyColumn;

const listed = new Map<string, string>();

/** The columns of a whole task row, optionally of a table alias, as fixed SQL text (built once per alias). */
export function taskColumns(alias = '') {
  let text = listed.get(alias);
  if (text === undefined) {
    text = TASK_COLUMNS.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
    listed.set(alias, text);
  }
  return sql.raw(text);
}
