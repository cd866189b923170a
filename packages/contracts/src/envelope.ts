import { z } from 'zod';
import { ErrorBody } from './errors';

export const ActionRequest = z.object({
  action: z.string().min(1).max(100),
  data: z.unknown().optional(),
});
export type ActionRequest = z.infer<typeof ActionRequest>;

export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ data, requestId: z.string() });
}

export const ErrorEnvelope = z
  .object({ error: ErrorBody, requestId: z.string() })
  .meta({ description: 'Every failure has this shape' });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** Headers ORA reads and writes, named once. */
export const headers = {
  requestId: 'x-request-id',
  idempotencyKey: 'idempotency-key',
  idempotentReplay: 'idempotent-replayed',
  retryAfter: 'retry-after',
  /**
   * The tightest of the request's rate-limit windows, as one field (draft-ietf-httpapi-ratelimit-headers-07):
   * `RateLimit: limit=120, remaining=87, reset=42` (reset in seconds).
   */
  rateLimit: 'ratelimit',
} as const;
