import { z } from 'zod';
import { Id, Timestamp } from './common';
import { Scope } from './scopes';

/** A model as `provider/model`: `openai/gpt-4o-mini`, `anthropic/claude-sonnet-4-5`, `openai/llama3.1` (Ollama). */
export const ModelName = z
  .string()
  .max(200)
  .regex(/^[\w.-]+\/[\w.:/-]+$/, 'expected provider/model, e.g. openai/gpt-4o-mini')
  .meta({ description: 'provider/model, e.g. openai/gpt-4o-mini or anthropic/claude-sonnet-4-5' });

export const AgentConfig = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    maxOutputTokens: z
      .number()
      .int()
      .min(16)
      .max(200_000)
      .optional()
      .meta({ description: 'Per model call (default 4096)' }),
    stream: z.boolean().optional().meta({ description: 'Stream model answers (default false)' }),
    scopes: z
      .array(Scope)
      .max(50)
      .optional()
      .meta({ description: 'When set, tools needing a scope outside this list are withheld from the agent' }),
    maxDelegations: z
      .number()
      .int()
      .min(0)
      .max(50)
      .optional()
      .meta({ description: 'Follow-up tasks one run may create with `delegate` (default 5)' }),
    memoryContext: z
      .boolean()
      .optional()
      .meta({ description: 'Put relevant memories into the prompt (default true, when memory is available)' }),
  })
  .meta({ description: 'How the agent runs' });
export type AgentConfig = z.infer<typeof AgentConfig>;

export const Agent = z.object({
  id: Id,
  slug: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  role: z.string().nullable(),
  systemPrompt: z.string(),
  model: z.string().nullable().meta({ description: 'provider/model; null: the server default (ORA_DEFAULT_MODEL)' }),
  fallbackModels: z.array(z.string()).meta({ description: 'Tried in order when the model fails or is unavailable' }),
  tools: z.array(z.string()),
  config: AgentConfig,
  maxSteps: z.number().int(),
  maxTokens: z.number().int().nullable().meta({ description: 'Token budget of one run (null: none)' }),
  maxCostUsd: z.number().nullable().meta({ description: 'Cost budget of one run in USD (null: none)' }),
  timeoutMs: z.number().int(),
  isActive: z.boolean(),
  isSystem: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Agent = z.infer<typeof Agent>;

export const ToolInfo = z.object({
  name: z.string(),
  description: z.string(),
  scopes: z.array(z.string()),
  sideEffect: z.boolean().meta({ description: 'Changes something: its result is recorded and replayed on retry' }),
  available: z.boolean().meta({ description: 'Whether this server can run it now (e.g. memory, image provider)' }),
});
export type ToolInfo = z.infer<typeof ToolInfo>;

export const ModelAttempt = z.object({
  step: z.number().int(),
  model: z.string(),
  provider: z.string(),
  status: z.enum(['ok', 'error', 'skipped']),
  fallback: z.boolean(),
  errorKind: z.string().optional(),
  httpStatus: z.number().int().nullable().optional(),
  message: z.string().optional(),
  retryAfterMs: z.number().nullable().optional(),
  waitedMs: z.number().optional(),
  startedAt: Timestamp,
  durationMs: z.number(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cost: z.number(),
  priced: z.boolean(),
});
export type ModelAttempt = z.infer<typeof ModelAttempt>;

export const ToolCallRecord = z.object({
  id: z.string().meta({ description: 'Durable id: <taskId>:<step>:<index>' }),
  step: z.number().int(),
  index: z.number().int(),
  tool: z.string(),
  arguments: z.unknown(),
  result: z.unknown().optional(),
  error: z.string().nullable(),
  replayed: z.boolean().meta({ description: 'The result of an earlier attempt, not executed again' }),
  durationMs: z.number(),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

export const TranscriptEntry = z.object({
  step: z.number().int(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().nullable(),
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional(),
  toolCallId: z.string().optional(),
  name: z.string().optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  at: Timestamp,
});
export type TranscriptEntry = z.infer<typeof TranscriptEntry>;

export const StopReason = z.enum([
  'completed',
  'max_steps',
  'token_budget',
  'cost_budget',
  'timeout',
  'cancelled',
  'error',
  'no_provider',
]);
export type StopReason = z.infer<typeof StopReason>;

/** One run of an agent: a task attempt, with everything needed to audit it or compare it to another. */
export const AgentRun = z.object({
  id: Id,
  agentId: Id,
  agentSlug: z.string().nullable(),
  taskId: Id.nullable(),
  attempt: z.number().int().nullable(),
  status: z.enum(['running', 'success', 'error', 'cancelled']),
  input: z.unknown(),
  output: z.unknown().nullable(),
  transcript: z.array(TranscriptEntry),
  toolCalls: z.array(ToolCallRecord),
  provider: z.string().nullable().meta({ description: 'The provider of the last answer' }),
  model: z.string().nullable().meta({ description: 'provider/model of the last answer' }),
  requestedModel: z
    .string()
    .nullable()
    .meta({ description: 'The model the task asked for (tasks.retry modelOverride)' }),
  attempts: z.array(ModelAttempt).meta({ description: 'Every provider call, fallbacks and retries included' }),
  steps: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  cost: z.number(),
  durationMs: z.number().int().nullable(),
  providerMs: z.number().int().nullable().meta({ description: 'Of the duration, time inside provider calls' }),
  stopReason: StopReason.nullable(),
  errorMessage: z.string().nullable(),
  startedAt: Timestamp,
  completedAt: Timestamp.nullable(),
});
export type AgentRun = z.infer<typeof AgentRun>;

export const AgentRunSummary = AgentRun.pick({
  id: true,
  taskId: true,
  status: true,
  model: true,
  totalTokens: true,
  cost: true,
  durationMs: true,
  stopReason: true,
  errorMessage: true,
  startedAt: true,
});

export const AgentRef = z.string().min(1).max(100).meta({ description: 'Agent slug or id' });

export const AgentsListInput = z.object({ includeInactive: z.boolean().default(true) });
export const AgentsListOutput = z.object({ items: z.array(Agent) });
export const AgentsGetInput = z.object({ agent: AgentRef });
export const AgentDetail = Agent.extend({
  availableTools: z.array(ToolInfo).meta({ description: 'The tools this agent may call, as this server runs them' }),
  recentRuns: z.array(AgentRunSummary),
});

export const AgentsUpdateInput = z.object({
  agent: AgentRef,
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullable().optional(),
  systemPrompt: z.string().max(50_000).optional(),
  model: ModelName.nullable().optional(),
  fallbackModels: z.array(ModelName).max(10).optional(),
  tools: z.array(z.string().min(1).max(100)).max(50).optional(),
  config: AgentConfig.optional(),
  maxSteps: z.number().int().min(1).max(200).optional(),
  maxTokens: z.number().int().min(1).max(100_000_000).nullable().optional(),
  maxCostUsd: z.number().min(0).max(100_000).nullable().optional(),
  timeoutMs: z.number().int().min(1000).max(3_600_000).optional(),
  isActive: z.boolean().optional(),
});

const RunOptions = {
  title: z.string().trim().min(1).max(500).optional(),
  instructions: z.unknown().optional(),
  taskType: z
    .string()
    .regex(/^[a-z][a-z0-9_.]{0,99}$/)
    .default('agent.run')
    .meta({ description: 'The task type recorded (default agent.run)' }),
  modelOverride: ModelName.optional(),
  tokenBudget: z.number().int().min(1).max(100_000_000).optional(),
  costBudget: z.number().min(0).max(1_000_000).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  parentTaskId: Id.optional(),
};

export const AgentsRunInput = z.object({
  agent: AgentRef,
  input: z.record(z.string(), z.unknown()).default({}),
  ...RunOptions,
  waitMs: z
    .number()
    .int()
    .min(0)
    .max(300_000)
    .default(30_000)
    .meta({ description: 'How long to wait for the result; after that the task id is returned and the run goes on' }),
});

export const AgentsRunOutput = z.object({
  taskId: Id,
  status: z.string().meta({ description: 'The task status when the call returned' }),
  done: z.boolean(),
  output: z.unknown().nullable(),
  errorMessage: z.string().nullable(),
  tokensUsed: z.number().int().nullable(),
  estimatedCost: z.number().nullable(),
  run: AgentRun.nullable().meta({ description: 'The latest run of the task, when there is one' }),
});

/** A step of a plan: a task for an agent (or a system step), with refs for dependencies. */
export const PlanStep = z.object({
  ref: z.string().regex(/^[\w-]{1,64}$/),
  agent: z.string().min(1).max(100).optional(),
  taskType: z.string().regex(/^[a-z][a-z0-9_.]{0,99}$/),
  title: z.string().trim().min(1).max(500),
  description: z.string().max(20_000).optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  dependsOn: z.array(z.string().min(1).max(64)).max(50).optional(),
});
export type PlanStep = z.infer<typeof PlanStep>;

export const DelegationPlan = z.union([
  z.object({
    kind: z.literal('workflow'),
    workflow: z.string().min(1).max(100),
    input: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({ kind: z.literal('steps'), steps: z.array(PlanStep).min(1).max(50) }),
]);
export type DelegationPlan = z.infer<typeof DelegationPlan>;

export const OraDelegateInput = z.object({
  request: z.string().trim().min(1).max(20_000).meta({ description: 'What the operator wants, in their words' }),
  execute: z.boolean().default(false).meta({ description: 'false: return the plan only; true: also create its tasks' }),
  context: z.record(z.string(), z.unknown()).optional(),
  modelOverride: ModelName.optional(),
  waitMs: z.number().int().min(0).max(300_000).default(60_000),
});

export const OraDelegateOutput = z.object({
  taskId: Id.meta({ description: "The planner's task" }),
  status: z.string(),
  done: z.boolean(),
  plan: DelegationPlan.nullable(),
  summary: z.string().nullable(),
  created: z
    .object({ chainId: Id, taskIds: z.array(Id) })
    .nullable()
    .meta({ description: 'The tasks made from the plan (execute: true)' }),
  errorMessage: z.string().nullable(),
  run: AgentRun.nullable(),
});

/** `POST /api/agent`: queue a run of an agent (the plan's internal execution endpoint). */
export const AgentExecuteRequest = z.object({
  action: z.literal('execute'),
  agentSlug: z.string().min(1).max(100),
  input: z.record(z.string(), z.unknown()).default({}),
  options: z
    .object({
      priority: z
        .union([z.enum(['low', 'normal', 'high', 'urgent']), z.number().int().min(-1000).max(1000)])
        .optional(),
      timeout: z
        .number()
        .int()
        .min(1000)
        .max(7 * 24 * 3600 * 1000)
        .optional()
        .meta({ description: 'ms: the task expires when not done by then' }),
      parentTaskId: Id.optional(),
      title: z.string().trim().min(1).max(500).optional(),
      taskType: z
        .string()
        .regex(/^[a-z][a-z0-9_.]{0,99}$/)
        .optional(),
      modelOverride: ModelName.optional(),
      tokenBudget: z.number().int().min(1).max(100_000_000).optional(),
      costBudget: z.number().min(0).max(1_000_000).optional(),
    })
    .default({}),
});
export type AgentExecuteRequest = z.infer<typeof AgentExecuteRequest>;

export const AgentExecuteResponse = z.object({
  taskId: Id,
  status: z.string(),
  estimatedStart: Timestamp,
});
export type AgentExecuteResponse = z.infer<typeof AgentExecuteResponse>;
