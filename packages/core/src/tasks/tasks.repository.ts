import type { Task, TaskEvent, TaskStatus } from '@ora/contracts';
import type { TaskEventRow, TaskRow } from '@ora/db';
import type { DbOrTx } from '../shared/deps';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (v: string | null) => (v === null ? null : Number(v));

export interface TaskRelations {
  agentSlug: string | null;
  dependsOn: string[];
}

export function taskRowToTask(row: TaskRow, relations: TaskRelations): Task {
  return {
    id: row.id,
    chainId: row.chain_id ?? row.id,
    parentTaskId: row.parent_task_id,
    assignedTo: row.assigned_to,
    agentSlug: relations.agentSlug,
    delegatedBy: row.delegated_by,
    taskType: row.task_type,
    title: row.title,
    description: row.description,
    instructions: row.instructions,
    input: row.input ?? {},
    output: row.output,
    priority: row.priority,
    scheduledFor: iso(row.scheduled_for),
    deadlineAt: iso(row.deadline_at),
    status: row.status,
    statusMessage: row.status_message,
    errorMessage: row.error_message,
    attemptCount: row.attempt_count,
    maxAttempts: row.max_attempts,
    lastAttemptAt: iso(row.last_attempt_at),
    nextAttemptAt: iso(row.next_attempt_at),
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    durationMs: row.duration_ms,
    tokensUsed: row.tokens_used,
    estimatedCost: num(row.estimated_cost),
    tokenBudget: row.token_budget,
    costBudget: num(row.cost_budget),
    modelOverride: row.model_override,
    relatedRunId: row.related_run_id,
    relatedPostId: row.related_post_id,
    workflowName: row.workflow_name,
    workflowVersion: row.workflow_version,
    requiresApproval: row.requires_approval,
    approvedAt: iso(row.approved_at),
    runAnywayOnDependencyFailure: row.run_anyway_on_dependency_failure,
    source: row.source,
    createdByKeyId: row.created_by_key_id,
    dependsOn: relations.dependsOn,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function taskEventRowToEvent(row: TaskEventRow): TaskEvent {
  return {
    id: row.id,
    fromStatus: (row.from_status as TaskStatus | null) ?? null,
    toStatus: row.to_status as TaskStatus,
    message: row.message,
    details: row.details,
    attempt: row.attempt,
    createdAt: row.created_at.toISOString(),
  };
}

/** Maps rows to tasks with their agent slugs and dependency ids, in two queries for any number of rows. */
export async function tasksWithRelations(db: DbOrTx, rows: TaskRow[]): Promise<Task[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const agentIds = [...new Set(rows.map((r) => r.assigned_to).filter((id): id is string => id !== null))];
  const [deps, agents] = await Promise.all([
    db.selectFrom('task_dependencies').select(['task_id', 'depends_on_task_id']).where('task_id', 'in', ids).execute(),
    agentIds.length
      ? db.selectFrom('agents').select(['id', 'slug']).where('id', 'in', agentIds).execute()
      : Promise.resolve([] as Array<{ id: string; slug: string }>),
  ]);
  const dependsOn = new Map<string, string[]>();
  for (const d of deps) {
    const list = dependsOn.get(d.task_id) ?? [];
    list.push(d.depends_on_task_id);
    dependsOn.set(d.task_id, list);
  }
  const slugs = new Map(agents.map((a) => [a.id, a.slug]));
  return rows.map((row) =>
    taskRowToTask(row, {
      agentSlug: row.assigned_to ? (slugs.get(row.assigned_to) ?? null) : null,
      dependsOn: (dependsOn.get(row.id) ?? []).sort(),
    }),
  );
}
