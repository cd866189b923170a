import { z } from 'zod';

export const domains = [
  'tasks',
  'agents',
  'sync',
  'keys',
  'webhooks',
  'memory',
  'conversations',
  'workflows',
  'schedules',
  'ora',
  'posts',
  'media',
  'leads',
  'analytics',
  'settings',
  'events',
  'audit',
] as const;
export const Domain = z.enum(domains);
export type Domain = z.infer<typeof Domain>;

const scopePattern = new RegExp(`^(\\*|(${domains.join('|')}):(read|write|\\*))$`);

/**
 * A permission a key holds: `*` (everything), `<domain>:*`, `<domain>:read` or `<domain>:write`.
 * `write` does not imply `read`; `<domain>:*` grants both.
 */
export const Scope = z
  .string()
  .regex(scopePattern, 'expected "*", "<domain>:read", "<domain>:write" or "<domain>:*"')
  .meta({ description: `One of "*", or <domain>:read|write|* with domain in ${domains.join(', ')}` });
export type Scope = string;

/** Does a key holding `held` satisfy `required`? */
export function scopeAllows(held: readonly string[], required: string): boolean {
  if (held.includes('*') || held.includes(required)) return true;
  const domain = required.split(':')[0];
  return held.includes(`${domain}:*`);
}

/** Every scope in `wanted` is one the holder could itself use (no key can mint a stronger key). */
export function scopesWithin(held: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((scope) => {
    if (scope === '*') return held.includes('*');
    if (scope.endsWith(':*')) {
      const domain = scope.slice(0, -2);
      return (
        held.includes('*') ||
        held.includes(scope) ||
        (held.includes(`${domain}:read`) && held.includes(`${domain}:write`))
      );
    }
    return scopeAllows(held, scope);
  });
}
