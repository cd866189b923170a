import { type ActionData, type ActionOutput, type ApiKey, OraError, scopesWithin } from '@ora/contracts';
import type { ApiKeyRow } from '@ora/db';
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit';
import { recordEvent } from '../events/events';
import { pageFrom, timeIdAfter } from '../shared/cursor';
import type { Actor, Clock, Db, DbOrTx, Logger } from '../shared/deps';
import { displayPrefix, generateSecret, hashSecret } from './key-format';
import { keyRowToApiKey } from './keys.repository';

/** Told when a key changes, so cached credentials (in this process and in others) are dropped. */
export interface KeyChangeNotifier {
  keyChanged(keyId: string): Promise<void>;
}

export interface KeyDeps {
  db: Db;
  clock: Clock;
  keyChanges?: KeyChangeNotifier;
}

export interface KeyDefaults {
  rateLimitPerMinute: number;
  rateLimitPerDay: number;
}

type CreateInput = ActionData<'keys.create'>;

function assertCanGrant(actor: Actor, scopes: readonly string[], agentId: string | null): void {
  if (!scopesWithin(actor.scopes, scopes)) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: 'A key cannot grant scopes it does not hold itself',
      details: { held: actor.scopes, requested: scopes },
    });
  }
  if (actor.agentId && agentId !== actor.agentId) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: 'A key bound to an agent can only manage keys bound to the same agent',
    });
  }
}

async function findKeyRow(db: DbOrTx, actor: Actor, id: string, forUpdate = false): Promise<ApiKeyRow> {
  let query = db.selectFrom('api_keys').selectAll().where('id', '=', id);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No API key with id ${id}` });
  return row;
}

export async function createKey(
  deps: KeyDeps,
  actor: Actor,
  input: CreateInput,
  defaults: KeyDefaults,
): Promise<ActionOutput<'keys.create'>> {
  const scopes = input.scopes ?? ['*'];
  const agentId = input.agentId ?? actor.agentId ?? null;
  assertCanGrant(actor, scopes, agentId);
  const secret = generateSecret();
  const row = await deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('api_keys')
      .values({
        name: input.name,
        description: input.description ?? null,
        key_hash: hashSecret(secret),
        key_prefix: displayPrefix(secret),
        scopes,
        agent_id: agentId,
        allowed_ips: input.allowedIps ?? null,
        rate_limit_per_minute: input.rateLimitPerMinute ?? defaults.rateLimitPerMinute,
        rate_limit_per_day: input.rateLimitPerDay ?? defaults.rateLimitPerDay,
        expires_at: input.expiresAt ? new Date(input.expiresAt) : null,
        created_by_key_id: actor.keyId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'keys.create',
      targetType: 'api_key',
      targetId: inserted.id,
      details: { name: inserted.name, scopes, agentId },
    });
    return inserted;
  });
  return { key: keyRowToApiKey(row), secret };
}

export async function listKeys(
  deps: Pick<KeyDeps, 'db'>,
  actor: Actor,
  input: ActionData<'keys.list'>,
): Promise<ActionOutput<'keys.list'>> {
  let query = deps.db
    .selectFrom('api_keys')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (!input.includeRevoked) query = query.where('revoked_at', 'is', null);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  const after = timeIdAfter(input.cursor);
  if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(...after)));
  return pageFrom(await query.execute(), input.limit, (row) => [row.created_at.toISOString(), row.id], keyRowToApiKey);
}

export async function getKey(deps: Pick<KeyDeps, 'db'>, actor: Actor, id: string): Promise<ApiKey> {
  return keyRowToApiKey(await findKeyRow(deps.db, actor, id));
}

export async function updateKey(deps: KeyDeps, actor: Actor, input: ActionData<'keys.update'>): Promise<ApiKey> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findKeyRow(trx, actor, input.id, true);
    if (input.scopes) assertCanGrant(actor, input.scopes, current.agent_id);
    const changes = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.scopes !== undefined ? { scopes: input.scopes } : {}),
      ...(input.allowedIps !== undefined ? { allowed_ips: input.allowedIps } : {}),
      ...(input.rateLimitPerMinute !== undefined ? { rate_limit_per_minute: input.rateLimitPerMinute } : {}),
      ...(input.rateLimitPerDay !== undefined ? { rate_limit_per_day: input.rateLimitPerDay } : {}),
      ...(input.expiresAt !== undefined
        ? { expires_at: input.expiresAt === null ? null : new Date(input.expiresAt) }
        : {}),
    };
    const updated = await trx
      .updateTable('api_keys')
      .set({ ...changes, updated_at: deps.clock.now() })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'keys.update',
      targetType: 'api_key',
      targetId: current.id,
      details: { changed: Object.keys(changes) },
    });
    return updated;
  });
  await deps.keyChanges?.keyChanged(row.id);
  return keyRowToApiKey(row);
}

export async function revokeKey(deps: KeyDeps, actor: Actor, input: ActionData<'keys.revoke'>): Promise<ApiKey> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findKeyRow(trx, actor, input.id, true);
    if (current.revoked_at) return current; // revoking twice is a no-op, not an error
    const now = deps.clock.now();
    const revoked = await trx
      .updateTable('api_keys')
      .set({ is_active: false, revoked_at: now, revoked_reason: input.reason ?? null, updated_at: now })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'keys.revoke',
      targetType: 'api_key',
      targetId: current.id,
      details: { reason: input.reason ?? null },
    });
    await recordEvent(trx, actor, 'key.revoked', {
      keyId: current.id,
      prefix: current.key_prefix,
      reason: input.reason ?? null,
    });
    return revoked;
  });
  await deps.keyChanges?.keyChanged(row.id);
  return keyRowToApiKey(row);
}

export async function rotateKey(
  deps: KeyDeps,
  actor: Actor,
  input: ActionData<'keys.rotate'>,
): Promise<ActionOutput<'keys.rotate'>> {
  const secret = generateSecret();
  const { created, previous } = await deps.db.transaction().execute(async (trx) => {
    const current = await findKeyRow(trx, actor, input.id, true);
    if (current.revoked_at) {
      throw new OraError({ code: 'CONFLICT', message: `Key ${current.id} is revoked; create a new key instead` });
    }
    assertCanGrant(actor, current.scopes, current.agent_id);
    const now = deps.clock.now();
    const created = await trx
      .insertInto('api_keys')
      .values({
        name: current.name,
        description: current.description,
        key_hash: hashSecret(secret),
        key_prefix: displayPrefix(secret),
        scopes: current.scopes,
        agent_id: current.agent_id,
        allowed_ips: current.allowed_ips,
        rate_limit_per_minute: current.rate_limit_per_minute,
        rate_limit_per_day: current.rate_limit_per_day,
        expires_at: current.expires_at,
        created_by_key_id: actor.keyId,
        rotated_from_key_id: current.id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const reason = input.reason ?? `rotated to ${created.id}`;
    const previous = await trx
      .updateTable('api_keys')
      .set(
        input.gracePeriodSeconds > 0
          ? { expires_at: new Date(now.getTime() + input.gracePeriodSeconds * 1000), updated_at: now }
          : { is_active: false, revoked_at: now, revoked_reason: reason, updated_at: now },
      )
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'keys.rotate',
      targetType: 'api_key',
      targetId: current.id,
      details: { newKeyId: created.id, gracePeriodSeconds: input.gracePeriodSeconds },
    });
    return { created, previous };
  });
  await deps.keyChanges?.keyChanged(previous.id);
  return { key: keyRowToApiKey(created), secret, previousKey: keyRowToApiKey(previous) };
}

/**
 * Makes `secret` an active full-access key (ORA_BOOTSTRAP_KEY). Returns whether it had to be
 * created or re-activated.
 */
export async function ensureBootstrapKey(
  deps: KeyDeps & { log: Logger },
  secret: string,
  defaults: KeyDefaults,
): Promise<'created' | 'reactivated' | 'present'> {
  const hash = hashSecret(secret);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', hash)
      .forUpdate()
      .executeTakeFirst();
    if (!existing) {
      await trx
        .insertInto('api_keys')
        .values({
          name: 'bootstrap (ORA_BOOTSTRAP_KEY)',
          key_hash: hash,
          key_prefix: displayPrefix(secret),
          scopes: ['*'],
          rate_limit_per_minute: defaults.rateLimitPerMinute,
          rate_limit_per_day: defaults.rateLimitPerDay,
        })
        .onConflict((oc) => oc.column('key_hash').doNothing())
        .execute();
      return 'created' as const;
    }
    const now = deps.clock.now();
    const healthy =
      existing.is_active &&
      !existing.revoked_at &&
      existing.scopes.includes('*') &&
      (!existing.expires_at || existing.expires_at > now) &&
      !existing.agent_id &&
      !existing.allowed_ips;
    if (healthy) return 'present' as const;
    await trx
      .updateTable('api_keys')
      .set({
        is_active: true,
        revoked_at: null,
        revoked_reason: null,
        scopes: ['*'],
        expires_at: null,
        agent_id: null,
        allowed_ips: null,
        updated_at: now,
      })
      .where('id', '=', existing.id)
      .execute();
    return 'reactivated' as const;
  });
  if (outcome === 'reactivated') {
    deps.log.warn(
      { keyPrefix: displayPrefix(secret) },
      'ORA_BOOTSTRAP_KEY was revoked, expired or narrowed; it is active with full access again. Unset ORA_BOOTSTRAP_KEY to retire it.',
    );
  }
  return outcome;
}

/**
 * On a database with no key at all, creates the first full-access key and returns its secret
 * (to be shown once). Several processes starting together create exactly one.
 */
export async function createFirstKeyIfNone(deps: KeyDeps, defaults: KeyDefaults): Promise<string | null> {
  return deps.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('ora.first_key'))`.execute(trx);
    const any = await trx.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
    if (any) return null;
    const secret = generateSecret();
    await trx
      .insertInto('api_keys')
      .values({
        name: 'first key',
        description: 'Created at first start because no key existed',
        key_hash: hashSecret(secret),
        key_prefix: displayPrefix(secret),
        scopes: ['*'],
        rate_limit_per_minute: defaults.rateLimitPerMinute,
        rate_limit_per_day: defaults.rateLimitPerDay,
      })
      .execute();
    return secret;
  });
}
