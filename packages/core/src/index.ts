/**
 * @ora/core: ORA's server domain. Plain functions that take their dependencies first
 * (`createKey(deps, actor, input)`); no Fastify, no Electron, no module-level state.
 */

export { agentRowToAgent, agentRunRowToRun, findAgentRow, runsOf } from './agents/agents.repository';
export type { AgentDeps } from './agents/agents.service';
export {
  delegateToOra,
  estimateStart,
  executeAgent,
  getAgent,
  listAgents,
  runAgent,
  toolInfos,
  updateAgent,
  waitForTask,
} from './agents/agents.service';
export { createBuiltinTaskHandlers } from './agents/builtin-handlers';
export { defaultAgents, ensureDefaultAgents } from './agents/default-agents';
export type { AgentMemoryPort } from './agents/memory-port';
export { createAgentMemoryPort } from './agents/memory-port';
export { closeAbandonedRuns } from './agents/runs.maintenance';
export type { AgentRuntimeDeps, StepTiming } from './agents/runtime';
export { allowedTools, candidateModels, createAgentTaskHandler, runAgentTask } from './agents/runtime';
export { createPublishPostHandler } from './agents/system-steps';
export type { ToolCallOutcome } from './agents/tool-calls';
export { executeToolCall, loadCompletedCalls } from './agents/tool-calls';
export { builtinTools, socialLimits } from './agents/tools/builtin-tools';
export type { SeoReport } from './agents/tools/seo';
export { analyzeSeo } from './agents/tools/seo';
export type { RunArtifacts, ToolContext, ToolDefinition, ToolRegistry, ToolServices } from './agents/tools/tool';
export { defineTool, toolRegistry, wireName } from './agents/tools/tool';
export type { AuditRecord } from './audit/audit';
export { listAudit, recordAudit } from './audit/audit';
export type { AuthenticatedKey, AuthenticatorOptions } from './auth/authenticator';
export { Authenticator } from './auth/authenticator';
export { compileAllowlist, normalizeIp } from './auth/ip-allowlist';
export * from './conversations/index';
export type { EventContext } from './events/events';
export { recordEvent, recordEvents } from './events/events';
export * from './events/index';
export type { IdempotencyBegin, StoredResponse } from './idempotency/idempotency.service';
export {
  beginIdempotent,
  completeIdempotent,
  releaseIdempotent,
  requestHash,
} from './idempotency/idempotency.service';
export type { GenericJobName, JobHandlers, JobName, JobPayload } from './jobs/catalog';
export { enqueueJob, jobCatalog, startJobConsumers } from './jobs/catalog';
export { displayPrefix, generateSecret, hashSecret, isWellFormedSecret, KEY_PREFIX } from './keys/key-format';
export type { KeyChangeNotifier, KeyDefaults, KeyDeps } from './keys/keys.service';
export {
  createFirstKeyIfNone,
  createKey,
  ensureBootstrapKey,
  getKey,
  listKeys,
  revokeKey,
  rotateKey,
  updateKey,
} from './keys/keys.service';
export { FallbackRateLimiter } from './limits/fallback-limiter';
export type { LimitDecision, LimitWindow, RateLimiter, WindowState } from './limits/rate-limiter';
export { MemoryRateLimiter } from './limits/rate-limiter';
export type { GlobalLimits } from './limits/request-limits';
export { requestWindows } from './limits/request-limits';
export type { SyncedRateLimiterOptions } from './limits/synced-limiter';
export { SyncedRateLimiter } from './limits/synced-limiter';
export { UsageRecorder } from './limits/usage-recorder';
export * from './memory/index';
export { AnthropicProvider } from './providers/anthropic.provider';
export type { ProviderErrorKind } from './providers/errors';
export { ProviderError } from './providers/errors';
export { OpenAIProvider } from './providers/openai.provider';
export type { ModelPrice, PriceTable } from './providers/prices';
export { costOf, defaultPrices, priceOf } from './providers/prices';
export type { ModelRef, ProvidersConfig } from './providers/registry';
export { NO_PROVIDER_MESSAGE, ProviderRegistry, parseModelRef } from './providers/registry';
export type { CallOptions, ModelAttempt, ModelCallResult } from './providers/router';
export { callModels, childSignal, ModelCallError } from './providers/router';
export type { ChatMessage, ChatRequest, ChatResponse, LlmProvider, ProviderName, ToolSpec } from './providers/types';
export type { BullMqDriverOptions, EmbeddedDriverOptions, QueueDriverOptions, QueueLogger } from './queue/index';
export { BullMqDriver, createQueueDriver, EmbeddedDriver, MAX_PRIORITY, MIN_PRIORITY } from './queue/index';
export type {
  ConsumeOptions,
  Consumer,
  EnqueueOptions,
  Job,
  JobProcessor,
  QueueCounts,
  QueueDriver,
} from './queue/queue-driver';
export { NonRetryableJobError } from './queue/queue-driver';
export {
  createSchedule,
  deleteSchedule,
  listSchedules,
  nextRun,
  runDueSchedules,
  triggerSchedule,
  updateSchedule,
} from './schedules/schedules.service';
export { decodeCursor, encodeCursor } from './shared/cursor';
export type { Actor, Clock, Db, DbOrTx, Logger } from './shared/deps';
export { systemActor, systemClock } from './shared/deps';
export * from './site/index';
export * from './sync/index';
export { planDag } from './tasks/dag';
export { Dispatcher, TASKS_QUEUE, taskJobId } from './tasks/dispatcher';
export type { DependencyResult, TaskExecution, TaskHandler, TaskHandlers, TaskOutcome } from './tasks/handlers';
export { NonRetryableTaskError } from './tasks/handlers';
export type { MaintenanceOptions, MaintenanceReport } from './tasks/maintenance';
export {
  expireOverdueTasks,
  recoverExpiredLeases,
  redispatchStaleTasks,
  runTaskMaintenance,
} from './tasks/maintenance';
export type { TaskRuntimeDeps, TaskRuntimeOptions } from './tasks/task-runtime';
export { TaskRuntime } from './tasks/task-runtime';
export type { TaskWorkerOptions } from './tasks/task-worker';
export { retryDelayMs, TaskWorker } from './tasks/task-worker';
export { startOfUtcDay, taskActivity, taskStats } from './tasks/tasks.overview';
export type { DispatchNudge, GraphRequest, TaskDeps } from './tasks/tasks.service';
export {
  agentsStatus,
  approveTask,
  cancelTask,
  createGraphBatcher,
  createTaskGraph,
  createTaskGraphs,
  createTasks,
  getTask,
  listTasks,
  retryTask,
  updateTask,
} from './tasks/tasks.service';
export * from './webhooks/index';
export {
  ensureBuiltinWorkflows,
  getWorkflow,
  listWorkflows,
  renderTemplate,
  runWorkflow,
} from './workflows/workflows.service';
