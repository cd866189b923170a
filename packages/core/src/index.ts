/**
 * @ora/core: ORA's server domain. Plain functions that take their dependencies first
 * (`createKey(deps, actor, input)`); no Fastify, no Electron, no module-level state.
 */

export type { AuditEntry } from './audit/audit';
export { recordAudit } from './audit/audit';
export type { AuthenticatedKey, AuthenticatorOptions } from './auth/authenticator';
export { Authenticator } from './auth/authenticator';
export { compileAllowlist, normalizeIp } from './auth/ip-allowlist';
export type { EventContext } from './events/events';
export { recordEvent } from './events/events';
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
export { decodeCursor, encodeCursor } from './shared/cursor';
export type { Actor, Clock, Db, DbOrTx, Logger } from './shared/deps';
export { systemActor, systemClock } from './shared/deps';
