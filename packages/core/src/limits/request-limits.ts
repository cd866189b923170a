import type { AuthenticatedKey } from '../auth/authenticator';
import type { LimitWindow } from './rate-limiter';

export interface GlobalLimits {
  globalPerMinute: number;
  syncPerMinute: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface KeyWindows {
  limits: GlobalLimits;
  default: readonly LimitWindow[];
  sync: readonly LimitWindow[];
}

// Built once per cached key object (a reloaded or changed key is a new object), not per request.
const windowsByKey = new WeakMap<AuthenticatedKey, KeyWindows>();

/**
 * The windows one request counts against: the whole server per minute, the key per day, and
 * per minute either the key's own limit or, for `sync.*`, the separate sync limit (sync traffic
 * comes in bursts and must not starve the key's other calls).
 */
export function requestWindows(
  key: AuthenticatedKey,
  group: 'default' | 'sync',
  limits: GlobalLimits,
): readonly LimitWindow[] {
  let known = windowsByKey.get(key);
  if (!known || known.limits !== limits) {
    const global: LimitWindow = { bucket: 'global:minute', limit: limits.globalPerMinute, windowMs: MINUTE };
    const day: LimitWindow = { bucket: `key:${key.keyId}:day`, limit: key.rateLimitPerDay, windowMs: DAY };
    known = {
      limits,
      default: [global, { bucket: `key:${key.keyId}:minute`, limit: key.rateLimitPerMinute, windowMs: MINUTE }, day],
      sync: [global, { bucket: `key:${key.keyId}:sync:minute`, limit: limits.syncPerMinute, windowMs: MINUTE }, day],
    };
    windowsByKey.set(key, known);
  }
  return known[group];
}
