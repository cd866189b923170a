import { AgentExecuteRequest, OraError, parseOrThrow, scopeAllows } from '@ora/contracts';
import { type Actor, executeAgent, requestWindows, systemClock } from '@ora/core';
import type { FastifyInstance } from 'fastify';
import type { System } from '../system';

export interface AgentRoutesOptions {
  system: System;
}

const SCOPE = 'agents:write';

/**
 * `POST /api/agent` `{action: 'execute', agentSlug, input, options}`: queues a run of an agent and
 * answers at once (202) with `{taskId, status, estimatedStart}`, as the plan's internal execution
 * endpoint does. Follow the task with tasks.get or the event stream. The key needs agents:write.
 */
export async function agentRoutes(app: FastifyInstance, options: AgentRoutesOptions): Promise<void> {
  const { system } = options;

  app.post('/api/agent', async (request, reply) => {
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
    if (!scopeAllows(key.scopes, SCOPE)) {
      throw new OraError({
        code: 'FORBIDDEN',
        message: `This key lacks the scope "${SCOPE}" that POST /api/agent needs`,
        details: { required: SCOPE, held: key.scopes },
      });
    }
    const body = parseOrThrow(
      AgentExecuteRequest,
      request.body ?? {},
      'request: expected {"action": "execute", "agentSlug": "...", "input": {...}, "options": {...}}',
    );
    const actor: Actor = {
      keyId: key.keyId,
      scopes: key.scopes,
      agentId: key.agentId,
      ip: request.ip,
      requestId: request.id,
    };
    const queued = await executeAgent(
      { db: system.database.db, clock: systemClock, dispatch: system.tasks.dispatcher },
      actor,
      body,
      { concurrency: system.config.workerConcurrency },
    );
    request.log.info({ taskId: queued.taskId, agent: body.agentSlug }, 'agent run queued');
    return reply.code(202).send(queued);
  });
}
