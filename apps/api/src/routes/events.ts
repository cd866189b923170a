import type { ServerResponse } from 'node:http';
import { EventPattern, EventSeq, headers, Id, parseOrThrow } from '@ora/contracts';
import { type Actor, EventStream, eventFilterFor } from '@ora/core';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { System } from '../system';
import { admitKey } from './admit';

export interface EventRoutesOptions {
  system: System;
}

/** Past this much unsent data the client is too slow: the stream ends and it resumes from its last id. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const StreamQuery = z.object({
  types: z
    .string()
    .max(2000)
    .optional()
    .transform((v) => (v ? v.split(',').map((t) => t.trim()) : undefined))
    .pipe(z.array(EventPattern).min(1).max(50).optional()),
  agentId: Id.optional(),
  taskId: Id.optional(),
  after: EventSeq.optional(),
});

/**
 * `GET /api/ora/events`: the event log as Server-Sent Events. Each event is `id: <seq>`,
 * `event: <type>`, `data: <event JSON>`; a client resumes after the last id it got
 * (Last-Event-ID, which EventSource sends by itself on reconnect, or `?after=`), and filters with
 * `?types=task.*,post.published`, `?agentId=`, `?taskId=`. The key needs `events:read`; a key bound
 * to an agent gets only that agent's events. Every replica serves the same stream: it is read from
 * the outbox in Postgres. Idle streams get a comment line every ORA_EVENTS_HEARTBEAT_MS, and the
 * key is checked again then (a revoked key's stream ends).
 */
export async function eventRoutes(app: FastifyInstance, options: EventRoutesOptions): Promise<void> {
  const { system } = options;
  const open = new Set<(reason: string) => void>();

  // Long-lived responses would hold a graceful close forever: end them first.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end('the server is shutting down');
  });

  app.get('/api/ora/events', async (request, reply) => {
    const key = await admitKey(system, request, 'events:read', 'the event stream');
    const query = parseOrThrow(StreamQuery, request.query ?? {}, 'query of /api/ora/events');
    const lastEventId = request.headers['last-event-id'];
    const afterSeq =
      typeof lastEventId === 'string' && lastEventId !== ''
        ? parseOrThrow(EventSeq, lastEventId, 'Last-Event-ID')
        : query.after;
    const actor: Actor = {
      keyId: key.keyId,
      scopes: key.scopes,
      agentId: key.agentId,
      ip: request.ip,
      requestId: request.id,
    };
    const filter = eventFilterFor(actor, {
      ...(query.types ? { types: query.types } : {}),
      ...(query.agentId ? { agentId: query.agentId } : {}),
      ...(query.taskId ? { taskId: query.taskId } : {}),
    });

    const res: ServerResponse = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      [headers.requestId]: request.id,
    });
    res.write('retry: 2000\n\n');

    let stream: EventStream | null = null;
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      open.delete(end);
      clearInterval(heartbeat);
      stream?.close();
      if (!res.writableEnded) {
        res.write(`: ${reason}\n\n`);
        res.end();
      }
    };
    open.add(end);
    res.on('close', () => end('closed'));
    const heartbeat = setInterval(() => {
      if (res.writableLength > MAX_BUFFERED_BYTES) return end('the client is not reading');
      res.write(': ping\n\n');
      system.authenticator
        .authenticate(request.headers.authorization, request.ip)
        .catch(() => end('the key is no longer valid'));
    }, system.config.events.heartbeatMs);
    heartbeat.unref();

    try {
      stream = await EventStream.open(
        { db: system.database.db, feed: system.events.feed },
        {
          filter,
          ...(afterSeq !== undefined ? { afterSeq } : {}),
          send: ({ event }) => {
            if (ended) return false;
            res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
            return res.writableLength <= MAX_BUFFERED_BYTES;
          },
          onEnd: (reason) => end(reason),
        },
      );
      if (ended) stream.close();
    } catch (error) {
      request.log.error({ err: error }, 'the event stream failed to start');
      end('the stream failed; reconnect to resume');
    }
  });
}
