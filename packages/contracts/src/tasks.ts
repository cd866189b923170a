import { z } from 'zod';
import { AgentRun } from './agents';
import { Id, PageInput, page, Timestamp } from './common';
import { MemoryVersion } from './memory';
import { WebhookDelivery } from './webhooks';

export const TaskStatus = z.enum([
  'pending',
  'queued',
  'running',
  'waiting',
  'success',
  'error',
  'cancelled',
  'expired',
]);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const terminalStatuses: readonly TaskStatus[] = ['success', 'error', 'cancelled', 'expired'];

export const TaskSource = z.enum(['server', 'desktop', 'api', 'webhook', 'schedule']);

const Json = z.record(z.string(), z.unknown());
const Money = z.number().min(0).max(1_000_000);

export const Task = z.object({
  id: Id,
  chainId: Id,
  parentTaskId: Id.nullable(),
  assignedTo: Id.nullable().meta({ description: 'The agent doing the task; null for system tasks' }),
  agentSlug: z.string().nullable(),
  delegatedBy: Id.nullable(),
  taskType: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  instructions: z.unknown().nullable(),
  input: z.unknown(),
  output: z.unknown().nullable(),
  priority: z.number().int(),
  scheduledFor: Timestamp.nullable(),
  deadlineAt: Timestamp.nullable(),
  status: TaskStatus,
  statusMessage: z.string().nullable(),
  errorMessage: z.string().nullable(),
  attemptCount: z.number().int(),
  maxAttempts: z.number().int(),
  lastAttemptAt: Timestamp.nullable(),
  nextAttemptAt: Timestamp.nullable(),
  startedAt: Timestamp.nullable(),
  completedAt: Timestamp.nullable(),
  durationMs: z.number().int().nullable(),
  tokensUsed: z.number().int().nullable(),
  estimatedCost: z.number().nullable(),
  tokenBudget: z.number().int().nullable(),
  costBudget: z.number().nullable(),
  modelOverride: z.string().nullable(),
  relatedRunId: Id.nullable(),
  relatedPostId: Id.nullable(),
  workflowName: z.string().nullable(),
  workflowVersion: z.number().int().nullable(),
  requiresApproval: z.boolean(),
  approvedAt: Timestamp.nullable(),
  runAnywayOnDependencyFailure: z.boolean(),
  source: TaskSource,
  createdByKeyId: Id.nullable(),
  dependsOn: z.array(Id),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Task = z.infer<typeof Task>;

export const TaskEvent = z.object({
  id: z.string(),
  fromStatus: TaskStatus.nullable(),
  toStatus: TaskStatus,
  message: z.string().nullable(),
  details: z.unknown().nullable(),
  attempt: z.number().int().nullable(),
  createdAt: Timestamp,
});
export type TaskEvent = z.infer<typeof TaskEvent>;

/** A run of the task's agent: transcript, tool calls, provider attempts, tokens, cost (see agents.ts). */
export const TaskRun = AgentRun;

const StepFields = {
  agent: z.string().min(1).max(100).optional().meta({ description: 'Agent slug or id; absent for a system task' }),
  taskType: z.string().regex(/^[a-z][a-z0-9_.]{0,99}$/, 'lowercase letters, digits, _ and .'),
  title: z.string().trim().min(1).max(500),
  description: z.string().max(20_000).optional(),
  instructions: z.unknown().optional(),
  input: Json.optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  scheduledFor: Timestamp.optional(),
  deadlineAt: Timestamp.optional(),
  maxAttempts: z.number().int().min(1).max(50).optional(),
  requiresApproval: z.boolean().optional(),
  runAnywayOnDependencyFailure: z.boolean().optional(),
  tokenBudget: z.number().int().min(1).max(100_000_000).optional(),
  costBudget: Money.optional(),
  modelOverride: z
    .string()
    .regex(/^[\w.-]+\/[\w.:/-]+$/, 'expected provider/model')
    .optional(),
  relatedPostId: Id.optional(),
};

export const TaskStepInput = z.object({
  ref: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .optional()
    .meta({ description: 'A name for this step, for dependsOn of other steps in the same call' }),
  ...StepFields,
  dependsOn: z
    .array(z.string().min(1).max(64))
    .max(100)
    .optional()
    .meta({ description: 'refs of steps in this call, or ids of existing tasks' }),
});
export type TaskStepInput = z.infer<typeof TaskStepInput>;

export const ChainOptions = z.object({
  tokenBudget: z.number().int().min(1).max(1_000_000_000).optional(),
  costBudget: Money.optional(),
});

export const TasksCreateInput = z.union([
  z.object({
    steps: z.array(TaskStepInput).min(1).max(200),
    chain: ChainOptions.optional(),
    parentTaskId: Id.optional(),
    source: TaskSource.optional(),
  }),
  TaskStepInput.extend({ parentTaskId: Id.optional(), source: TaskSource.optional(), chain: ChainOptions.optional() }),
]);
export const TasksCreateOutput = z.object({ chainId: Id, tasks: z.array(Task) });

export const TasksListInput = PageInput.extend({
  status: z.union([TaskStatus, z.array(TaskStatus).min(1)]).optional(),
  agent: z.string().max(100).optional(),
  taskType: z.string().max(100).optional(),
  parentTaskId: Id.optional(),
  chainId: Id.optional(),
  createdAfter: Timestamp.optional(),
  createdBefore: Timestamp.optional(),
  search: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Text found in the title or in the input (any field name or value), ignoring case' }),
});
export const TasksListOutput = page(Task);

export const TaskSummary = Task.pick({ id: true, title: true, taskType: true, status: true, agentSlug: true });
export const TaskDetail = Task.extend({
  dependencies: z.array(TaskSummary),
  dependents: z.array(TaskSummary),
  events: z.array(TaskEvent),
  runs: z.array(TaskRun),
});

export const TasksGetInput = z.object({ id: Id });

export const TasksUpdateInput = z.object({
  id: Id,
  title: z.string().trim().min(1).max(500).optional(),
  description: z.string().max(20_000).nullable().optional(),
  instructions: z.unknown().optional(),
  input: Json.optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  scheduledFor: Timestamp.nullable().optional(),
  deadlineAt: Timestamp.nullable().optional(),
  maxAttempts: z.number().int().min(1).max(50).optional(),
  resume: z
    .boolean()
    .optional()
    .meta({ description: 'Put a waiting task back in the queue (after giving it the input it waited for)' }),
});

export const TasksCancelInput = z.object({ id: Id, reason: z.string().max(1000).optional() });
export const TasksRetryInput = z.object({
  id: Id,
  modelOverride: z
    .string()
    .regex(/^[\w.-]+\/[\w.:/-]+$/, 'expected provider/model')
    .optional(),
});
export const TasksApproveInput = z.object({
  id: Id,
  approved: z.boolean().default(true).meta({ description: 'false rejects: the task is cancelled' }),
  reason: z.string().max(1000).optional(),
});

export const AgentsStatusOutput = z.object({
  agents: z.array(
    z.object({
      agentId: Id.nullable(),
      slug: z.string().nullable(),
      name: z.string(),
      pending: z.number().int(),
      queued: z.number().int(),
      running: z.number().int(),
      waiting: z.number().int(),
      failed: z.number().int(),
      succeeded: z.number().int(),
    }),
  ),
});

export const WorkflowStep = z.object({
  ref: z.string().regex(/^[\w-]{1,64}$/),
  ...StepFields,
  title: z.string().min(1).max(500).meta({ description: 'May use {{input.field}} placeholders' }),
  input: z.record(z.string(), z.unknown()).optional().meta({ description: 'Strings may use {{input.field}}' }),
  dependsOn: z.array(z.string()).optional(),
});
export const WorkflowDefinition = z.object({
  description: z.string(),
  input: z.record(
    z.string(),
    z.object({ type: z.enum(['string', 'number', 'boolean']), required: z.boolean().default(false) }),
  ),
  steps: z.array(WorkflowStep).min(1),
});
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;

export const Workflow = z.object({
  id: Id,
  name: z.string(),
  version: z.number().int(),
  description: z.string().nullable(),
  definition: WorkflowDefinition,
  isActive: z.boolean(),
  createdAt: Timestamp,
});
export const WorkflowsListOutput = z.object({ items: z.array(Workflow) });
export const WorkflowsGetInput = z.object({ name: z.string().min(1).max(100), version: z.number().int().optional() });
export const WorkflowsRunInput = z.object({
  name: z.string().min(1).max(100),
  version: z.number().int().optional(),
  input: z.record(z.string(), z.unknown()).default({}),
  priority: z.number().int().min(-1000).max(1000).optional(),
  chain: ChainOptions.optional(),
  source: TaskSource.optional(),
});

export const ScheduleTemplate = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), step: TaskStepInput.omit({ ref: true, dependsOn: true }) }),
  z.object({
    kind: z.literal('workflow'),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()).default({}),
  }),
]);
export const OverlapPolicy = z.enum(['skip', 'queue_one', 'allow']);
export const Schedule = z.object({
  id: Id,
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  overlapPolicy: OverlapPolicy,
  template: ScheduleTemplate,
  isActive: z.boolean(),
  nextRunAt: Timestamp.nullable(),
  lastRunAt: Timestamp.nullable(),
  lastTaskId: Id.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export const SchedulesCreateInput = z.object({
  name: z.string().trim().min(1).max(200),
  cron: z
    .string()
    .min(9)
    .max(200)
    .meta({ description: 'Five fields (minute hour day month weekday), or six with seconds first' }),
  timezone: z.string().max(100).default('UTC'),
  overlapPolicy: OverlapPolicy.default('skip'),
  template: ScheduleTemplate,
  isActive: z.boolean().default(true),
});
export const SchedulesUpdateInput = z.object({
  id: Id,
  name: z.string().trim().min(1).max(200).optional(),
  cron: z.string().min(9).max(200).optional(),
  timezone: z.string().max(100).optional(),
  overlapPolicy: OverlapPolicy.optional(),
  template: ScheduleTemplate.optional(),
  isActive: z.boolean().optional(),
});
export const ScheduleIdInput = z.object({ id: Id });
export const SchedulesListOutput = z.object({ items: z.array(Schedule) });
export const SchedulesTriggerOutput = z.object({
  schedule: Schedule,
  chainId: Id.nullable(),
  skipped: z.string().nullable(),
});

/** One line of tasks.stats: the queue now, and what happened since `since`. */
export const TaskStatsLine = z.object({
  agentId: Id.nullable(),
  slug: z.string().nullable(),
  name: z.string(),
  pending: z.number().int().meta({ description: 'Waiting for dependencies or their scheduled time' }),
  queued: z.number().int(),
  running: z.number().int(),
  waiting: z.number().int().meta({ description: 'Waiting for input (approval not counted)' }),
  awaitingApproval: z.number().int(),
  failed: z.number().int().meta({ description: 'Failed or expired since `since`' }),
  succeeded: z.number().int().meta({ description: 'Succeeded since `since`' }),
  runs: z.number().int().meta({ description: 'Agent runs started since `since`' }),
  tokens: z.number().int().meta({ description: 'Tokens of the runs started since `since`' }),
  cost: z.number().meta({ description: 'USD of the runs started since `since`' }),
});
export type TaskStatsLine = z.infer<typeof TaskStatsLine>;
export const TasksStatsInput = z.object({
  since: Timestamp.optional().meta({ description: 'Default: the start of today (UTC)' }),
});
export const TasksStatsOutput = z.object({
  since: Timestamp,
  totals: TaskStatsLine,
  agents: z.array(TaskStatsLine).meta({ description: 'Each agent, then a line for system tasks (agentId null)' }),
});

export const TasksActivityInput = z.object({ id: Id });
export const TasksActivityOutput = z.object({
  createdByKey: z
    .object({ id: Id, name: z.string(), prefix: z.string() })
    .nullable()
    .meta({ description: 'The key that created the task (null: created by the server, or not visible to this key)' }),
  memoryWrites: z
    .array(MemoryVersion)
    .nullable()
    .meta({ description: 'Every memory version the task wrote, oldest first (null: the key lacks memory:read)' }),
  deliveries: z
    .array(WebhookDelivery.extend({ webhookName: z.string() }))
    .nullable()
    .meta({ description: "Webhook deliveries of the task's events, oldest first (null: the key lacks webhooks:read)" }),
});
