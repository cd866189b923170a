import type { AuthenticatedKey } from '../auth/authenticator';
import type { LimitWindow } from './rate-limiter';

export interface GlobalLimits {
  globalPerMinute: number;
  syncPerMinute: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The windows one request counts against: the whole server per minute, the key per day, and
 * per minute either the key's own limit or, for `sync.*`, the separate sync limit (sync traffic
 * comes in bursts and must not starve the key's other calls).
 */
export function requestWindows(key: AuthenticatedKey, group: 'default' | 'sync', limits: GlobalLimits): LimitWindow[] {
  return [
    { bucket: 'global:minute', limit: limits.globalPerMinute, windowMs: MINUTE },
    group === 'sync'
      ? { bucket: `key:${key.keyId}:sync:minute`, limit: limits.syncPerMinute, windowMs: MINUTE }
      : { bucket: `key:${key.keyId}:minute`, limit: key.rateLimitPerMinute, windowMs: MINUTE },
    { bucket: `key:${key.keyId}:day`, limit: key.rateLimitPerDay, windowMs: DAY },
  ];
}
