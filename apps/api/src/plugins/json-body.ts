import { OraError } from '@ora/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import secureJson from 'secure-json-parse';

/**
 * Every body ORA takes is JSON. An empty body is no data; a body sent with another (or no) Content-Type
 * is read as JSON too, so `curl -d '{...}'` works; malformed JSON is a VALIDATION_ERROR saying where.
 */
export const jsonBodyPlugin = fp(
  async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    const parse = (_request: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, secureJson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
      } catch (error) {
        done(
          new OraError({
            code: 'VALIDATION_ERROR',
            message: `Malformed JSON body: ${(error as Error).message}`,
          }),
        );
      }
    };
    app.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
    app.addContentTypeParser('*', { parseAs: 'string' }, parse);
  },
  { name: 'ora-json-body' },
);
