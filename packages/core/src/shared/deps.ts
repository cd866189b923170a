import type { Database } from '@ora/db';
import type { Kysely, Transaction } from 'kysely';

export type Db = Kysely<Database>;
export type DbOrTx = Kysely<Database> | Transaction<Database>;

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** The logging surface core needs; pino's Logger satisfies it. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Who is acting, for authorisation and the audit log. */
export interface Actor {
  keyId: string | null;
  scopes: readonly string[];
  agentId: string | null;
  ip: string | null;
  requestId: string | null;
}

/** The actor for work ORA does by itself (start-up, maintenance, the CLI on the server). */
export const systemActor: Actor = { keyId: null, scopes: ['*'], agentId: null, ip: null, requestId: null };
