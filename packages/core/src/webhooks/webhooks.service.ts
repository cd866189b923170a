import { type ActionData, type ActionOutput, OraError, type Webhook, type WebhookDelivery } from '@ora/contracts';
import type { WebhookDeliveryAttemptRow, WebhookRow } from '@ora/db';
import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import type { EventWakeSignal } from '../events/wake-signal';
import { jobCatalog } from '../jobs/catalog';
import type { QueueDriver } from '../queue/queue-driver';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import type { Actor, Clock, Db, DbOrTx, Logger } from '../shared/deps';
import { assertWebhookUrl, type TargetPolicy } from './ssrf-guard';
import type { WebhookHttpClient } from './webhook-http';
import { generateWebhookSecret, webhookHeaders } from './webhook-signature';
import { deliveryJobId, deliveryRowToDelivery, webhookRowToWebhook } from './webhooks.repository';

/** How this process delivers webhooks (config of the API and worker). */
export interface WebhookDeliverySettings {
  policy: TargetPolicy;
  http: WebhookHttpClient;
  /** Deadline of one attempt; the attempt's lease adds a margin to it. */
  timeoutMs: number;
  /** A webhook is disabled after this many failed attempts in a row... */
  disableAfterFailures: number;
  /** ...spanning at least this long (so a burst of events cannot disable it in seconds). */
  disableAfterMs: number;
}

export interface WebhookDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  queue: QueueDriver;
  webhooks: WebhookDeliverySettings;
  /** Told after a commit that wrote events (webhook.disabled). */
  wake?: EventWakeSignal;
}

const notFound = (id: string) => new OraError({ code: 'NOT_FOUND', message: `No webhook with id ${id}` });

async function findWebhook(db: DbOrTx, actor: Actor, id: string, lock = false): Promise<WebhookRow> {
  let query = db.selectFrom('webhooks').selectAll().where('id', '=', id);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound(id);
  return row;
}

function assertFiltersAllowed(actor: Actor, filters: ActionData<'webhooks.create'>['filters']): void {
  if (actor.agentId && filters?.agentIds?.some((a) => a !== actor.agentId)) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: 'A key bound to an agent can only subscribe to that agent’s events',
    });
  }
}

export async function createWebhook(
  deps: Pick<WebhookDeps, 'db' | 'clock' | 'webhooks'>,
  actor: Actor,
  input: ActionData<'webhooks.create'>,
): Promise<ActionOutput<'webhooks.create'>> {
  assertFiltersAllowed(actor, input.filters);
  await assertWebhookUrl(input.url, deps.webhooks.policy);
  const secret = generateWebhookSecret();
  const row = await deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const inserted = await trx
      .insertInto('webhooks')
      .values({
        name: input.name,
        description: input.description ?? null,
        url: input.url,
        secret,
        events: [...new Set(input.events)],
        filters: JSON.stringify(input.filters ?? {}),
        ...(input.maxRetries !== undefined ? { max_retries: input.maxRetries } : {}),
        ...(input.retryDelaySeconds !== undefined ? { retry_delay_seconds: input.retryDelaySeconds } : {}),
        is_active: input.isActive,
        disabled_at: input.isActive ? null : now,
        disabled_reason: input.isActive ? null : 'created paused',
        api_key_id: actor.keyId,
        agent_id: actor.agentId,
        // created_at is the database's now(), the clock events are stamped with: a webhook gets
        // the events written after it.
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'webhooks.create',
      targetType: 'webhook',
      targetId: inserted.id,
      details: { name: inserted.name, url: inserted.url, events: inserted.events },
    });
    return inserted;
  });
  return { webhook: webhookRowToWebhook(row, deps.clock.now()), secret };
}

export async function listWebhooks(
  deps: Pick<WebhookDeps, 'db' | 'clock'>,
  actor: Actor,
  input: ActionData<'webhooks.list'>,
): Promise<ActionOutput<'webhooks.list'>> {
  let query = deps.db
    .selectFrom('webhooks')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (input.isActive !== undefined) query = query.where('is_active', '=', input.isActive);
  if (input.cursor) {
    const [createdAt, id] = decodeCursor(input.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(createdAt), id)));
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  const now = deps.clock.now();
  return {
    items: items.map((r) => webhookRowToWebhook(r, now)),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
  };
}

export async function getWebhook(deps: Pick<WebhookDeps, 'db' | 'clock'>, actor: Actor, id: string): Promise<Webhook> {
  return webhookRowToWebhook(await findWebhook(deps.db, actor, id), deps.clock.now());
}

export async function updateWebhook(
  deps: Pick<WebhookDeps, 'db' | 'clock' | 'webhooks'>,
  actor: Actor,
  input: ActionData<'webhooks.update'>,
): Promise<Webhook> {
  assertFiltersAllowed(actor, input.filters);
  if (input.url !== undefined) await assertWebhookUrl(input.url, deps.webhooks.policy);
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findWebhook(trx, actor, input.id, true);
    const now = deps.clock.now();
    const changes = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
      ...(input.filters !== undefined ? { filters: JSON.stringify(input.filters) } : {}),
      ...(input.maxRetries !== undefined ? { max_retries: input.maxRetries } : {}),
      ...(input.retryDelaySeconds !== undefined ? { retry_delay_seconds: input.retryDelaySeconds } : {}),
    };
    const activation =
      input.isActive === true && !current.is_active
        ? {
            is_active: true,
            disabled_at: null,
            disabled_reason: null,
            consecutive_failures: 0,
            failing_since: null,
          }
        : input.isActive === false && current.is_active
          ? { is_active: false, disabled_at: now, disabled_reason: 'paused' }
          : {};
    const updated = await trx
      .updateTable('webhooks')
      .set({ ...changes, ...activation, updated_at: now })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'webhooks.update',
      targetType: 'webhook',
      targetId: current.id,
      details: { changed: [...Object.keys(changes), ...(input.isActive !== undefined ? ['is_active'] : [])] },
    });
    return updated;
  });
  return webhookRowToWebhook(row, deps.clock.now());
}

export async function deleteWebhook(
  deps: Pick<WebhookDeps, 'db'>,
  actor: Actor,
  id: string,
): Promise<ActionOutput<'webhooks.delete'>> {
  await deps.db.transaction().execute(async (trx) => {
    const current = await findWebhook(trx, actor, id, true);
    await trx.deleteFrom('webhooks').where('id', '=', current.id).execute();
    await recordAudit(trx, actor, {
      action: 'webhooks.delete',
      targetType: 'webhook',
      targetId: current.id,
      details: { name: current.name, url: current.url },
    });
  });
  return { id, deleted: true };
}

export async function rotateWebhookSecret(
  deps: Pick<WebhookDeps, 'db' | 'clock'>,
  actor: Actor,
  input: ActionData<'webhooks.rotate_secret'>,
): Promise<ActionOutput<'webhooks.rotate_secret'>> {
  const secret = generateWebhookSecret();
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findWebhook(trx, actor, input.id, true);
    const now = deps.clock.now();
    const grace = input.gracePeriodSeconds > 0 && current.secret;
    const updated = await trx
      .updateTable('webhooks')
      .set({
        secret,
        previous_secret: grace ? current.secret : null,
        previous_secret_expires_at: grace ? new Date(now.getTime() + input.gracePeriodSeconds * 1000) : null,
        updated_at: now,
      })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'webhooks.rotate_secret',
      targetType: 'webhook',
      targetId: current.id,
      details: { gracePeriodSeconds: input.gracePeriodSeconds },
    });
    return updated;
  });
  return { webhook: webhookRowToWebhook(row, deps.clock.now()), secret };
}

/** The secrets a message is signed with now: the current one, and the previous during its grace. */
export function signingSecrets(
  row: Pick<WebhookRow, 'secret' | 'previous_secret' | 'previous_secret_expires_at'>,
  now: Date,
): string[] {
  const secrets = row.secret ? [row.secret] : [];
  if (row.previous_secret && row.previous_secret_expires_at && row.previous_secret_expires_at > now) {
    secrets.push(row.previous_secret);
  }
  return secrets;
}

async function attemptsOf(db: DbOrTx, ids: readonly string[]): Promise<Map<string, WebhookDeliveryAttemptRow[]>> {
  const byDelivery = new Map<string, WebhookDeliveryAttemptRow[]>();
  if (ids.length === 0) return byDelivery;
  const rows = await db
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', 'in', ids)
    .orderBy('delivery_id')
    .orderBy('id')
    .execute();
  for (const row of rows) {
    const list = byDelivery.get(row.delivery_id) ?? [];
    list.push(row);
    byDelivery.set(row.delivery_id, list);
  }
  return byDelivery;
}

/**
 * `webhooks.test`: a signed `webhook.test` message sent now, from this process, through the same
 * guard and client as every delivery; logged as a delivery of its own with no retry. It does not
 * count in the webhook's stats.
 */
export async function testWebhook(deps: WebhookDeps, actor: Actor, id: string): Promise<WebhookDelivery> {
  const webhook = await findWebhook(deps.db, actor, id);
  const now = deps.clock.now();
  const payload = {
    type: 'webhook.test',
    timestamp: now.toISOString(),
    data: { webhookId: webhook.id, message: 'A test message from ORA: the signature and your endpoint work.' },
  };
  const delivery = await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: webhook.id,
        event_id: null,
        event_type: 'webhook.test',
        payload: JSON.stringify(payload),
        status: 'pending',
        attempt_count: 1,
        round_attempts: 1,
        next_attempt_at: null,
        lease_expires_at: new Date(now.getTime() + deps.webhooks.timeoutMs * 2),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { action: 'webhooks.test', targetType: 'webhook', targetId: webhook.id });
    return row;
  });
  const body = JSON.stringify(payload);
  const headers = webhookHeaders(signingSecrets(webhook, now), delivery.id, Math.floor(now.getTime() / 1000), body);
  const outcome = await deps.webhooks.http.post(webhook.url, headers, body);
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const done = deps.clock.now();
  const [row] = await Promise.all([
    deps.db
      .updateTable('webhook_deliveries')
      .set({
        status: ok ? 'success' : 'dead',
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        completed_at: done,
        lease_expires_at: null,
        updated_at: done,
      })
      .where('id', '=', delivery.id)
      .returningAll()
      .executeTakeFirstOrThrow(),
    deps.db
      .insertInto('webhook_delivery_attempts')
      .values({
        delivery_id: delivery.id,
        attempt: 1,
        attempted_at: now,
        status_code: outcome.statusCode,
        latency_ms: outcome.latencyMs,
        response_excerpt: outcome.responseExcerpt,
        error: outcome.error,
      })
      .execute(),
  ]);
  const attempts = await attemptsOf(deps.db, [delivery.id]);
  return deliveryRowToDelivery(row, attempts.get(delivery.id) ?? []);
}

export async function listDeliveries(
  deps: Pick<WebhookDeps, 'db'>,
  actor: Actor,
  input: ActionData<'webhooks.deliveries'>,
): Promise<ActionOutput<'webhooks.deliveries'>> {
  await findWebhook(deps.db, actor, input.webhookId);
  let query = deps.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', input.webhookId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.status === 'delivering') {
    query = query.where('status', 'in', ['pending', 'failed']).where('lease_expires_at', 'is not', null);
  } else if (input.status === 'pending' || input.status === 'failed') {
    query = query.where('status', '=', input.status).where('lease_expires_at', 'is', null);
  } else if (input.status) {
    query = query.where('status', '=', input.status);
  }
  if (input.deliveryId) query = query.where('id', '=', input.deliveryId);
  if (input.cursor) {
    const [createdAt, id] = decodeCursor(input.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(createdAt), id)));
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const attempts = await attemptsOf(
    deps.db,
    items.map((r) => r.id),
  );
  const last = items.at(-1);
  return {
    items: items.map((r) => deliveryRowToDelivery(r, attempts.get(r.id) ?? [])),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
  };
}

/**
 * `webhooks.replay`: sends deliveries again with their own webhook-id (receivers deduplicate on
 * it) and a fresh retry budget: one delivery that is not in progress, or every delivery of a
 * webhook that failed for good since a time.
 */
export async function replayDeliveries(
  deps: Pick<WebhookDeps, 'db' | 'clock' | 'queue' | 'log'>,
  actor: Actor,
  input: ActionData<'webhooks.replay'>,
): Promise<ActionOutput<'webhooks.replay'>> {
  const replayed = await deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    let webhookId = input.webhookId;
    if (input.deliveryId) {
      const delivery = await trx
        .selectFrom('webhook_deliveries')
        .select(['id', 'webhook_id', 'status'])
        .where('id', '=', input.deliveryId)
        .forUpdate()
        .executeTakeFirst();
      if (!delivery || (webhookId && delivery.webhook_id !== webhookId)) {
        throw new OraError({ code: 'NOT_FOUND', message: `No delivery with id ${input.deliveryId}` });
      }
      if (delivery.status === 'pending' || delivery.status === 'delivering' || delivery.status === 'failed') {
        throw new OraError({
          code: 'CONFLICT',
          message: `Delivery ${delivery.id} is still being delivered (${delivery.status}); replay it once it ended`,
        });
      }
      webhookId = delivery.webhook_id;
    }
    const webhook = await findWebhook(trx, actor, webhookId as string);
    if (!webhook.is_active) {
      throw new OraError({
        code: 'CONFLICT',
        message: `Webhook ${webhook.id} is disabled (${webhook.disabled_reason ?? 'paused'}); re-enable it with webhooks.update first`,
      });
    }
    let query = trx
      .updateTable('webhook_deliveries')
      .set({
        status: 'pending',
        round_attempts: 0,
        next_attempt_at: now,
        completed_at: null,
        updated_at: now,
      })
      .where('webhook_id', '=', webhook.id)
      .where('event_type', '!=', 'webhook.test');
    if (input.deliveryId) {
      query = query.where('id', '=', input.deliveryId);
    } else {
      query = query.where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('webhook_id', '=', webhook.id)
          .where('status', '=', 'dead')
          .where('completed_at', '>=', new Date(input.since as string))
          .orderBy('completed_at')
          .limit(input.limit),
      );
    }
    const rows = await query.returning(['id', 'attempt_count']).execute();
    if (input.deliveryId && rows.length === 0) {
      throw new OraError({
        code: 'CONFLICT',
        message: 'A webhooks.test delivery cannot be replayed; call webhooks.test',
      });
    }
    await recordAudit(trx, actor, {
      action: 'webhooks.replay',
      targetType: 'webhook',
      targetId: webhook.id,
      details: { deliveries: rows.length, deliveryId: input.deliveryId ?? null, since: input.since ?? null },
    });
    return rows;
  });
  await enqueueDeliveries(deps, replayed);
  return { replayed: replayed.length, deliveryIds: replayed.map((r) => r.id) };
}

/** A burst of new deliveries is carried this many to a job, at most. */
const MAX_JOB_BATCH = 50;
/** Below this many new deliveries at once, each gets a job of its own (all in flight together). */
const SPREAD = 16;

/**
 * Puts delivery jobs on the queue, after the commit that made them due. Deliveries due now share
 * jobs in a burst (a job per 16th of them, up to 50 a job), so the queue's per-job cost is
 * spread; a delayed retry gets its own job. A failure is only logged: the maintenance sweep
 * enqueues due deliveries that no job picked up.
 */
export async function enqueueDeliveries(
  deps: Pick<WebhookDeps, 'queue' | 'log'>,
  rows: ReadonlyArray<{ id: string; attempt_count: number; delayMs?: number }>,
  options: { recovery?: boolean } = {},
): Promise<void> {
  if (rows.length === 0) return;
  // A recovery enqueues under new job ids: the lost job may still hold its id (locked by a dead
  // worker until the queue notices); running a delivery twice is harmless, its claim is leased.
  const suffix = options.recovery ? `_r${Date.now()}` : '';
  const entry = jobCatalog['webhook.deliver'];
  const now = rows.filter((r) => !r.delayMs || r.delayMs <= 0);
  const later = rows.filter((r) => r.delayMs && r.delayMs > 0);
  const size = Math.min(MAX_JOB_BATCH, Math.max(1, Math.ceil(now.length / SPREAD)));
  const groups: Array<{ rows: typeof rows; delayMs: number }> = later.map((r) => ({
    rows: [r],
    delayMs: r.delayMs ?? 0,
  }));
  for (let i = 0; i < now.length; i += size) groups.push({ rows: now.slice(i, i + size), delayMs: 0 });
  try {
    await deps.queue.enqueueMany(
      entry.queue,
      groups.map((group) => {
        const first = group.rows[0] as { id: string; attempt_count: number };
        return {
          name: 'webhook.deliver',
          payload: { deliveryIds: group.rows.map((r) => r.id) },
          options: {
            ...entry.options,
            jobId: `${deliveryJobId(first.id, first.attempt_count)}${suffix}`,
            ...(group.delayMs > 0 ? { delayMs: group.delayMs } : {}),
          },
        };
      }),
    );
  } catch (err) {
    deps.log.warn({ err, deliveries: rows.length }, 'could not enqueue webhook deliveries; the maintenance sweep will');
  }
}
