import {
  type ActionName,
  ActionRequest,
  actionNames,
  actions,
  headers,
  OraError,
  parseOrThrow,
  scopeAllows,
} from '@ora/contracts';
import {
  type Actor,
  type AuthenticatedKey,
  beginIdempotent,
  completeIdempotent,
  releaseIdempotent,
  requestHash,
  requestWindows,
  systemClock,
} from '@ora/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actionHandlers } from '../actions';
import type { ActionContext } from '../actions/context';
import { sendError, toOraError } from '../plugins/errors';
import { mediaUploadBodyLimit } from '../site';
import type { System } from '../system';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: AuthenticatedKey;
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

type Handler = (ctx: ActionContext, data: unknown) => Promise<unknown>;

interface ActionEntry {
  name: ActionName;
  definition: (typeof actions)[ActionName];
  handler: Handler;
  /** What a validation error names (`data for <action>`). */
  what: string;
}

export interface ActionRoutesOptions {
  system: System;
  /** Check every answer against its output schema (tests turn this on). */
  validateOutput?: boolean;
}

/** `POST /api/ora` ({action, data}) and `POST /api/ora/<action>` (data as the body). */
export async function actionRoutes(app: FastifyInstance, options: ActionRoutesOptions): Promise<void> {
  const { system } = options;

  // Authenticate before the body is read: no key, no parsing.
  // A key in the cache is checked without a promise; otherwise the database is asked once.
  app.addHook('onRequest', (request, _reply, done) => {
    const { authorization } = request.headers;
    let key: AuthenticatedKey | undefined;
    try {
      key = system.authenticator.authenticateCached(authorization, request.ip);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (key) {
      request.apiKey = key;
      done();
      return;
    }
    system.authenticator.authenticate(authorization, request.ip).then((found) => {
      request.apiKey = found;
      done();
    }, done);
  });

  app.post('/api/ora', async (request, reply) => {
    const envelope = parseOrThrow(
      ActionRequest,
      request.body ?? {},
      'request: expected {"action": "<domain>.<verb>", "data": {...}}',
    );
    return run(request, reply, envelope.action, envelope.data);
  });

  app.post<{ Params: { action: string } }>('/api/ora/:action', (request, reply) =>
    run(request, reply, request.params.action, request.body),
  );

  // A file as base64 is larger than any other call: this path alone takes ORA_MEDIA_MAX_BYTES of it.
  app.post('/api/ora/media.upload', { bodyLimit: mediaUploadBodyLimit(system.config) }, async (request, reply) =>
    run(request, reply, 'media.upload', request.body),
  );

  // Every action's definition and handler, found with one lookup per request.
  const table = new Map<string, ActionEntry>(
    actionNames.map((name) => [
      name,
      { name, definition: actions[name], handler: actionHandlers[name] as Handler, what: `data for ${name}` },
    ]),
  );

  async function run(request: FastifyRequest, reply: FastifyReply, requested: string, rawData: unknown) {
    const key = request.apiKey as AuthenticatedKey;
    const entry = table.get(requested);
    if (!entry) {
      throw new OraError({
        code: 'VALIDATION_ERROR',
        message: `Unknown action "${requested}"; GET /openapi.json lists them all`,
        details: { action: requested },
      });
    }
    const { name, definition } = entry;
    request.oraAction = name;

    const consumed = system.limiter.consume(requestWindows(key, definition.limitGroup, system.config.limits));
    const decision = consumed instanceof Promise ? await consumed : consumed;
    const window = decision.tightest;
    reply.header(
      headers.rateLimit,
      `limit=${window.limit}, remaining=${Math.max(0, window.limit - window.count)}, reset=${Math.ceil(window.resetMs / 1000)}`,
    );
    if (!decision.allowed) {
      throw new OraError({
        code: 'RATE_LIMITED',
        message: `Rate limit reached (${window.limit} per ${window.bucket.endsWith('day') ? 'day' : 'minute'}, ${window.bucket.startsWith('global') ? 'whole server' : 'this key'}); retry after the Retry-After seconds`,
        retryAfterSeconds: window.resetMs / 1000,
      });
    }
    const ip = request.ip; // with a trusted proxy, each read parses X-Forwarded-For again
    system.usage.record(key.keyId, ip, new Date());

    if (definition.scope !== null && !scopeAllows(key.scopes, definition.scope)) {
      throw new OraError({
        code: 'FORBIDDEN',
        message: `This key lacks the scope "${definition.scope}" that ${name} needs`,
        details: { required: definition.scope, held: key.scopes },
      });
    }

    const data = parseOrThrow(definition.input, rawData ?? {}, entry.what);
    const actor: Actor = {
      keyId: key.keyId,
      scopes: key.scopes,
      agentId: key.agentId,
      ip,
      requestId: request.id,
    };
    const ctx: ActionContext = { system, actor, key, log: request.log };

    const idempotencyKey = request.headers[headers.idempotencyKey];
    if (definition.mutates && typeof idempotencyKey === 'string') {
      return runIdempotent(request, reply, ctx, entry, data, idempotencyKey);
    }
    if (definition.mutates || options.validateOutput)
      return { data: await execute(ctx, entry, data), requestId: request.id };
    // A read answers as its handler does, without a second promise.
    return { data: await entry.handler(ctx, data), requestId: request.id };
  }

  async function execute(ctx: ActionContext, entry: ActionEntry, data: unknown): Promise<unknown> {
    const result = await entry.handler(ctx, data);
    // A mutation may have committed events: readers of the log (streams, webhooks) look now.
    if (entry.definition.mutates) system.events.wake.announce();
    if (options.validateOutput) {
      const checked = entry.definition.output.safeParse(result);
      if (!checked.success) {
        throw new Error(`${entry.name} answered outside its output schema: ${checked.error.message}`);
      }
    }
    return result;
  }

  async function runIdempotent(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: ActionContext,
    entry: ActionEntry,
    data: unknown,
    idempotencyKey: string,
  ) {
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new OraError({
        code: 'VALIDATION_ERROR',
        message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
      });
    }
    const deps = { db: system.database.db, clock: systemClock };
    const keyId = ctx.actor.keyId as string;
    const begun = await beginIdempotent(deps, keyId, idempotencyKey, entry.name, requestHash(entry.name, data));
    if (begun.kind === 'replay') {
      reply.header(headers.idempotentReplay, 'true');
      return reply.code(begun.response.status).send(begun.response.body);
    }
    try {
      const body = { data: await execute(ctx, entry, data), requestId: request.id };
      await completeIdempotent(deps, keyId, idempotencyKey, { status: 200, body });
      return body;
    } catch (error) {
      const oraError = toOraError(error);
      if (oraError.status >= 500) {
        // A server error may be worth retrying with the same key: forget the claim.
        await releaseIdempotent(deps, keyId, idempotencyKey);
      } else {
        await completeIdempotent(deps, keyId, idempotencyKey, {
          status: oraError.status,
          body: { error: oraError.toBody(), requestId: request.id },
        });
      }
      if (oraError.status >= 500) throw error;
      return sendError(request, reply, oraError);
    }
  }
}
