/**
 * @ora/core: ORA's server domain. Plain functions that take their dependencies first
 * (`createKey(deps, actor, input)`); no Fastify, no Electron, no module-level state.
 */

export { defaultAgents, ensureDefaultAgents } from './agents/default-agents';
export type { AuditEntry } from './audit/audit';
export { recordAudit } from './audit/audit';
export type { AuthenticatedKey, AuthenticatorOptions } from './auth/authenticator';
export { Authenticator } from './auth/authenticator';
export { compileAllowlist, normalizeIp } from './auth/ip-allowlist';
export type { EventContext } from './events/events';
export { recordEvent, recordEvents } from './events/events';
export type { IdempotencyBegin, StoredResponse } from './idempotency/idempotency.service';
export {
  beginIdempotent,
  completeIdempotent,
  releaseIdempotent,
  requestHash,
} from './idempotency/idempotency.service';
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
export { MemoryRateLimiter, RedisRateLimiter } from './limits/rate-limiter';
export type { GlobalLimits } from './limits/request-limits';
export { requestWindows } from './limits/request-limits';
export { UsageRecorder } from './limits/usage-recorder';
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
export {
  ensureBuiltinWorkflows,
  getWorkflow,
  listWorkflows,
  renderTemplate,
  runWorkflow,
} from './workflows/workflows.service';
export { enqueueJob, jobCatalog, startJobConsumers } from './jobs/catalog';
export type { GenericJobName, JobHandlers, JobName, JobPayload } from './jobs/catalog';
