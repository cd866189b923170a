import { OraError, scopeAllows } from '@ora/contracts';
import { type AuthenticatedKey, requestWindows } from '@ora/core';
import type { FastifyRequest } from 'fastify';
import type { System } from '../system';

/**
 * What every keyed route outside `POST /api/ora` does first: authenticate the key, count the
 * request against its rate limits, record its use, and check the scope `what` needs.
 */
export async function admitKey(
  system: System,
  request: FastifyRequest,
  scope: string,
  what: string,
): Promise<AuthenticatedKey> {
  const key = await system.authenticator.authenticate(request.headers.authorization, request.ip);
  const decision = await system.limiter.consume(requestWindows(key, 'default', system.config.limits));
  if (!decision.allowed) {
    throw new OraError({
      code: 'RATE_LIMITED',
      message: 'Rate limit reached; retry after the Retry-After seconds',
      retryAfterSeconds: decision.tightest.resetMs / 1000,
    });
  }
  system.usage.record(key.keyId, request.ip, new Date());
  if (!scopeAllows(key.scopes, scope)) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: `This key lacks the scope "${scope}" that ${what} needs`,
      details: { required: scope, held: key.scopes },
    });
  }
  return key;
}
