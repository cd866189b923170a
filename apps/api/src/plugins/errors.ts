import { type ErrorEnvelope, headers, isOraError, OraError } from '@ora/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Turns anything thrown into the error envelope; Fastify's own 4xx errors become VALIDATION_ERROR. */
export function toOraError(error: unknown): OraError {
  if (isOraError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode ?? 500;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new OraError({
      code: 'VALIDATION_ERROR',
      status: 413,
      message: 'Request body is over the size limit (ORA_BODY_LIMIT_BYTES)',
    });
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new OraError({
      code: 'VALIDATION_ERROR',
      message: 'Unsupported Content-Type: send JSON with "Content-Type: application/json"',
    });
  }
  if (status >= 400 && status < 500) {
    return new OraError({ code: 'VALIDATION_ERROR', message: fastifyError.message ?? 'Bad request' });
  }
  return new OraError({
    code: 'INTERNAL_ERROR',
    message: 'Internal error; the server log has details under this request id',
    cause: error,
  });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: OraError): FastifyReply {
  if (error.retryAfterSeconds !== undefined)
    reply.header(headers.retryAfter, String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  const body: ErrorEnvelope = { error: error.toBody(), requestId: request.id };
  return reply.code(error.status).type('application/json; charset=utf-8').send(body);
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => {
      const oraError = toOraError(error);
      if (oraError.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: oraError.code, reason: oraError.message }, 'request refused');
      return sendError(request, reply, oraError);
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(
        request,
        reply,
        new OraError({
          code: 'NOT_FOUND',
          message: `No route ${request.method} ${request.url.split('?')[0]}; actions are POST /api/ora`,
        }),
      ),
    );
  },
  { name: 'ora-errors' },
);
