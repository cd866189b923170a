import { createHash } from 'node:crypto';
import { OraError } from '@ora/contracts';
import type { Clock, Db } from '../shared/deps';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyBegin = { kind: 'first' } | { kind: 'replay'; response: StoredResponse };

export interface IdempotencyDeps {
  db: Db;
  clock: Clock;
}

const TTL_MS = 24 * 3600 * 1000;

/** Stable hash of an action and its data: key order in objects does not matter. */
export function requestHash(action: string, data: unknown): string {
  return createHash('sha256').update(action).update('\0').update(canonicalJson(data)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Claims an Idempotency-Key for one key's request. The first claim runs the request; a repeat
 * with the same body gets the stored answer; another body is refused; a repeat while the first is
 * still running gets CONFLICT.
 */
export async function beginIdempotent(
  deps: IdempotencyDeps,
  keyId: string,
  idempotencyKey: string,
  action: string,
  hash: string,
): Promise<IdempotencyBegin> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + TTL_MS);
  const claimed = await deps.db
    .insertInto('idempotency_keys')
    .values({
      key_id: keyId,
      idempotency_key: idempotencyKey,
      action,
      request_hash: hash,
      status: 'running',
      expires_at: expiresAt,
    })
    .onConflict((oc) =>
      // An expired record is claimed afresh.
      oc
        .columns(['key_id', 'idempotency_key'])
        .doUpdateSet({
          action,
          request_hash: hash,
          status: 'running',
          response_status: null,
          response_body: null,
          created_at: now,
          completed_at: null,
          expires_at: expiresAt,
        })
        .where('idempotency_keys.expires_at', '<=', now),
    )
    .returning('status')
    .executeTakeFirst();
  if (claimed) return { kind: 'first' };

  const existing = await deps.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('key_id', '=', keyId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
  if (!existing) return beginIdempotent(deps, keyId, idempotencyKey, action, hash); // released meanwhile
  if (existing.request_hash !== hash) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: 'This Idempotency-Key was used with a different request; use a new key for a new request',
      details: { idempotencyKey, firstAction: existing.action },
    });
  }
  if (existing.status === 'running') {
    throw new OraError({
      code: 'CONFLICT',
      message: 'A request with this Idempotency-Key is still running; retry when it has finished',
      retryAfterSeconds: 1,
    });
  }
  return { kind: 'replay', response: { status: existing.response_status ?? 200, body: existing.response_body } };
}

export async function completeIdempotent(
  deps: IdempotencyDeps,
  keyId: string,
  idempotencyKey: string,
  response: StoredResponse,
): Promise<void> {
  await deps.db
    .updateTable('idempotency_keys')
    .set({
      status: 'completed',
      response_status: response.status,
      response_body: JSON.stringify(response.body),
      completed_at: deps.clock.now(),
    })
    .where('key_id', '=', keyId)
    .where('idempotency_key', '=', idempotencyKey)
    .execute();
}

/** Forgets a claim whose request failed in a way worth retrying (a server error). */
export async function releaseIdempotent(deps: IdempotencyDeps, keyId: string, idempotencyKey: string): Promise<void> {
  await deps.db
    .deleteFrom('idempotency_keys')
    .where('key_id', '=', keyId)
    .where('idempotency_key', '=', idempotencyKey)
    .where('status', '=', 'running')
    .execute();
}
