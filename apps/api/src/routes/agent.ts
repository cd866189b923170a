import { AgentExecuteRequest, parseOrThrow } from '@ora/contracts';
import { type Actor, executeAgent, systemClock } from '@ora/core';
import type { FastifyInstance } from 'fastify';
import type { System } from '../system';
import { admitKey } from './admit';

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
    const key = await admitKey(system, request, SCOPE, 'POST /api/agent');
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
