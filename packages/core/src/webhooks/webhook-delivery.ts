import { setMaxListeners } from 'node:events';
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit';
import { recordEvent } from '../events/events';
import { Batcher } from '../shared/batcher';
import { systemActor } from '../shared/deps';
import { executePrepared } from '../shared/prepared';
import type { HttpOutcome } from './webhook-http';
import { webhookHeaders } from './webhook-signature';
import { enqueueDeliveries, signingSecrets, type WebhookDeps } from './webhooks.service';

/** A job that arrives this early (queue timers, clock rounding) still counts as due. */
const EARLY_TOLERANCE_MS = 50;
/** Retry-After is honoured up to this (a day). */
const MAX_RETRY_AFTER_S = 24 * 3600;

/** How long an attempt may hold its delivery before it is taken for lost. */
export function attemptLeaseMs(timeoutMs: number): number {
  return timeoutMs + Math.max(2_000, Math.round(timeoutMs / 2));
}

/**
 * The wait before the next try after `roundAttempts` tries failed: the webhook's schedule
 * (`retry_delay_seconds[n-1]`, the last value repeating) plus up to 10% jitter, so many deliveries
 * that failed together do not come back together. Never earlier than the schedule says.
 */
export function webhookRetryDelayMs(schedule: readonly number[], roundAttempts: number, random = Math.random): number {
  const seconds = schedule[Math.min(Math.max(roundAttempts, 1), schedule.length) - 1] ?? 60;
  return Math.round(seconds * 1000 * (1 + 0.1 * random()));
}

/** An int[] as Postgres renders it ("{60,300,3600}"). */
function parseSchedule(text: string): number[] {
  const inner = text.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map(Number) : [];
}

interface Claimed {
  id: string;
  webhook_id: string;
  /** The stored JSON body (json: the text as written): sent and signed as is, the same on every attempt. */
  body: string;
  attempt_count: number;
  round_attempts: number;
  url: string;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  max_retries: number;
  /** The schedule as Postgres renders an int[] ("{60,300}"): read only when an attempt failed. */
  retry_delay_seconds: string;
}

/** One attempt's result, as written to the delivery, its attempt log and its webhook's stats. */
interface Outcome {
  id: string;
  attempt: number;
  status: 'success' | 'failed' | 'dead';
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  excerpt: string | null;
  attemptedAt: Date;
  nextAttemptAt: Date | null;
}

/** The webhook's stats after an outcome was written; null when the attempt had lost its lease. */
interface Written {
  consecutiveFailures: number;
  failingSince: Date | null;
  isActive: boolean;
}

/**
 * Runs `webhook.deliver` jobs: one attempt of each delivery of the job. A delivery is in flight
 * while it holds a lease (`lease_expires_at`; reported as `delivering`): taking it changes no
 * indexed column, so the claim is a cheap (HOT) update. Concurrent jobs share their
 * database work: claims made in the same tick are one UPDATE, outcomes one statement (delivery,
 * attempt log and the webhook's stats together), so the per-delivery cost is the POST and the job.
 *
 * The claim (due, not in flight, webhook active) is atomic and takes a lease, so a duplicate job
 * does nothing; an outcome is written only while the attempt still holds the delivery (fenced by
 * its attempt number). A failure schedules the next try per the webhook's retry schedule (or
 * Retry-After on 429/503), 410 Gone disables the webhook, and a webhook failing continuously past
 * the threshold is disabled with a `webhook.disabled` event.
 */
export class WebhookDeliverer {
  // A few milliseconds of waiting gathers the claims and outcomes of many jobs into one statement.
  readonly #claims = new Batcher<string, Claimed | null>((ids) => this.#claimBatch(ids), 500, 5);
  readonly #outcomes = new Batcher<Outcome, Written | null>((items) => this.#writeOutcomes(items), 500, 10);

  constructor(private readonly deps: WebhookDeps) {}

  /** One `webhook.deliver` job: its deliveries side by side. A failure to reach the database fails the job. */
  async deliverAll(deliveryIds: readonly string[], signal?: AbortSignal): Promise<void> {
    // Every request of the job listens to the job's signal.
    if (signal) setMaxListeners(deliveryIds.length + 10, signal);
    const results = await Promise.allSettled(deliveryIds.map((id) => this.deliver(id, signal)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async deliver(deliveryId: string, signal?: AbortSignal): Promise<void> {
    const claimed = await this.#claims.add(deliveryId);
    if (!claimed) return settleUnclaimed(this.deps, deliveryId);
    const now = this.deps.clock.now();
    const body = claimed.body;
    const headers = webhookHeaders(signingSecrets(claimed, now), claimed.id, Math.floor(now.getTime() / 1000), body);
    const outcome = await this.deps.webhooks.http.post(claimed.url, headers, body, signal);
    if (signal?.aborted) return giveBack(this.deps, claimed, outcome, 'the attempt was stopped by a shutdown');
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    if (ok) {
      await this.#outcomes.add({
        id: claimed.id,
        attempt: claimed.attempt_count,
        status: 'success',
        statusCode: outcome.statusCode,
        error: null,
        latencyMs: outcome.latencyMs,
        excerpt: outcome.responseExcerpt,
        attemptedAt: now,
        nextAttemptAt: null,
      });
      return;
    }
    await this.#failed(claimed, now, outcome);
  }

  async #failed(claimed: Claimed, attemptedAt: Date, outcome: HttpOutcome): Promise<void> {
    const gone = outcome.statusCode === 410;
    const retry = !gone && claimed.round_attempts <= claimed.max_retries;
    let delayMs = 0;
    if (retry) {
      const throttled = outcome.statusCode === 429 || outcome.statusCode === 503;
      delayMs =
        throttled && outcome.retryAfterSeconds !== null
          ? Math.min(Math.max(outcome.retryAfterSeconds, 1), MAX_RETRY_AFTER_S) * 1000
          : webhookRetryDelayMs(parseSchedule(claimed.retry_delay_seconds), claimed.round_attempts);
    }
    const error = (outcome.error ?? `HTTP ${outcome.statusCode}`).slice(0, 1000);
    const now = this.deps.clock.now();
    const written = await this.#outcomes.add({
      id: claimed.id,
      attempt: claimed.attempt_count,
      status: retry ? 'failed' : 'dead',
      statusCode: outcome.statusCode,
      error,
      latencyMs: outcome.latencyMs,
      excerpt: outcome.responseExcerpt,
      attemptedAt,
      nextAttemptAt: retry ? new Date(now.getTime() + delayMs) : null,
    });
    if (!written) {
      this.deps.log.warn(
        { deliveryId: claimed.id },
        'a webhook attempt ended after its lease was taken back; its outcome is dropped',
      );
      return;
    }
    const { webhooks } = this.deps;
    if (gone) {
      await disableWebhook(this.deps, claimed.webhook_id, 'the receiver answered 410 Gone');
    } else if (
      written.isActive &&
      written.consecutiveFailures >= webhooks.disableAfterFailures &&
      // Now, not the attempt's start: the outcome was written (failing_since set) after that.
      this.deps.clock.now().getTime() - (written.failingSince ?? now).getTime() >= webhooks.disableAfterMs
    ) {
      const since = (written.failingSince ?? now).toISOString();
      await disableWebhook(
        this.deps,
        claimed.webhook_id,
        `failing continuously: ${written.consecutiveFailures} failed attempts since ${since} (last: ${error})`,
      );
    }
    if (retry) await enqueueDeliveries(this.deps, [{ id: claimed.id, attempt_count: claimed.attempt_count, delayMs }]);
  }

  async #claimBatch(deliveryIds: string[]): Promise<Array<Claimed | null>> {
    const now = this.deps.clock.now();
    const lease = new Date(now.getTime() + attemptLeaseMs(this.deps.webhooks.timeoutMs));
    // Planned at every call (not a prepared statement): a generic plan may pick the due index,
    // which holds every due delivery, over the primary key for the few ids claimed.
    const { rows } = await sql<Claimed>`
      update webhook_deliveries d
      set attempt_count = d.attempt_count + 1, round_attempts = d.round_attempts + 1,
          lease_expires_at = ${lease}::timestamptz, updated_at = ${now}::timestamptz
      from webhooks w
      where w.id = d.webhook_id and d.id = any(${[...new Set(deliveryIds)]}::uuid[])
        and d.status in ('pending', 'failed') and d.lease_expires_at is null
        and d.next_attempt_at <= ${new Date(now.getTime() + EARLY_TOLERANCE_MS)}::timestamptz and w.is_active
      returning d.id, d.webhook_id, d.payload::text as body, d.attempt_count, d.round_attempts, w.url, w.secret,
                w.previous_secret, w.previous_secret_expires_at, w.max_retries,
                w.retry_delay_seconds::text as retry_delay_seconds
    `.execute(this.deps.db);
    const byId = new Map(rows.map((r) => [r.id, r]));
    // A delivery named twice in one batch (duplicate jobs) is claimed by the first only.
    return deliveryIds.map((id) => {
      const row = byId.get(id) ?? null;
      byId.delete(id);
      return row;
    });
  }

  async #writeOutcomes(items: Outcome[]): Promise<Array<Written | null>> {
    const now = this.deps.clock.now();
    const column = <T>(pick: (o: Outcome) => T) => items.map(pick);
    const { rows } = await executePrepared(
      this.deps.db,
      sql<{
        id: string;
        consecutive_failures: number;
        failing_since: Date | null;
        is_active: boolean;
      }>`
      with input as (
        select * from unnest(
          ${column((o) => o.id)}::uuid[], ${column((o) => o.attempt)}::int[], ${column((o) => o.status)}::text[],
          ${column((o) => o.statusCode)}::int[], ${column((o) => o.error)}::text[],
          ${column((o) => o.latencyMs)}::int[], ${column((o) => o.excerpt)}::text[],
          ${column((o) => o.attemptedAt.toISOString())}::timestamptz[],
          ${column((o) => o.nextAttemptAt?.toISOString() ?? null)}::timestamptz[]
        ) with ordinality as t(id, attempt, status, code, error, latency, excerpt, attempted_at, next_at, ord)
      ), d as (
        update webhook_deliveries w
        set status = i.status, last_status_code = i.code, last_error = i.error, next_attempt_at = i.next_at,
            completed_at = case when i.status = 'failed' then null else ${now}::timestamptz end,
            lease_expires_at = null, updated_at = ${now}
        from input i
        where w.id = i.id and w.lease_expires_at is not null and w.attempt_count = i.attempt
        returning w.id, w.webhook_id, i.status, i.error, i.ord, i.status = 'success' as ok
      ), logged as (
        insert into webhook_delivery_attempts
          (delivery_id, attempt, attempted_at, status_code, latency_ms, response_excerpt, error)
        select i.id, i.attempt, i.attempted_at, i.code, i.latency, i.excerpt, i.error
        from input i join d on d.id = i.id
      ), ranked as (
        select d.*, max(ord) filter (where ok) over (partition by webhook_id) as last_ok from d
      ), totals as (
        select webhook_id,
               count(*) filter (where ok) as ok,
               count(*) filter (where not ok) as bad,
               count(*) filter (where status = 'dead') as dead,
               count(*) filter (where not ok and ord > coalesce(last_ok, 0)) as trailing,
               (array_agg(error order by ord desc) filter (where not ok))[1] as last_error
        from ranked group by webhook_id
      ), stats as (
        update webhooks w
        set successful_deliveries = w.successful_deliveries + t.ok,
            failed_deliveries = w.failed_deliveries + t.dead,
            consecutive_failures = case when t.ok > 0 then t.trailing else w.consecutive_failures + t.trailing end,
            failing_since = case
              when t.trailing = 0 then null
              when t.ok > 0 then ${now}::timestamptz
              else coalesce(w.failing_since, ${now}::timestamptz) end,
            last_success_at = case when t.ok > 0 then ${now}::timestamptz else w.last_success_at end,
            last_failure_at = case when t.bad > 0 then ${now}::timestamptz else w.last_failure_at end,
            last_error = coalesce(t.last_error, w.last_error)
        from totals t where w.id = t.webhook_id
        returning w.id, w.consecutive_failures, w.failing_since, w.is_active
      )
      select d.id, s.consecutive_failures, s.failing_since, s.is_active
      from d join stats s on s.id = d.webhook_id
    `,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return items.map((item) => {
      const row = byId.get(item.id);
      return row
        ? { consecutiveFailures: row.consecutive_failures, failingSince: row.failing_since, isActive: row.is_active }
        : null;
    });
  }
}

/** A job that could not claim its delivery: not due yet, already done or in flight, or webhook disabled. */
async function settleUnclaimed(deps: WebhookDeps, deliveryId: string): Promise<void> {
  const now = deps.clock.now();
  const row = await deps.db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select(['d.status', 'd.next_attempt_at', 'd.lease_expires_at', 'w.is_active'])
    .where('d.id', '=', deliveryId)
    .executeTakeFirst();
  // Done, or in flight elsewhere (a lease): nothing to do here.
  if (!row || (row.status !== 'pending' && row.status !== 'failed') || row.lease_expires_at) return;
  if (!row.is_active) {
    await deps.db
      .updateTable('webhook_deliveries')
      .set({
        status: 'dead',
        last_error: 'the webhook is disabled',
        next_attempt_at: null,
        completed_at: now,
        updated_at: now,
      })
      .where('id', '=', deliveryId)
      .where('status', 'in', ['pending', 'failed'])
      .where('lease_expires_at', 'is', null)
      .execute();
    return;
  }
  // Due within a moment (the queue ran the job a little early): fail this try, the queue's backoff
  // brings it back. Further off: the job that scheduled it, or the maintenance sweep, will come.
  if (row.next_attempt_at && row.next_attempt_at.getTime() - now.getTime() < 2_000) {
    throw new Error(`delivery ${deliveryId} is not due until ${row.next_attempt_at.toISOString()}`);
  }
}

/** An attempt cut short on our side (shutdown): logged, not counted, and handed to another worker. */
async function giveBack(deps: WebhookDeps, claimed: Claimed, outcome: HttpOutcome, reason: string) {
  const now = deps.clock.now();
  const { rows } = await sql<{ id: string }>`
    with d as (
      update webhook_deliveries
      set status = 'failed', round_attempts = greatest(round_attempts - 1, 0), last_error = ${reason},
          next_attempt_at = ${now}, lease_expires_at = null, updated_at = ${now}
      where id = ${claimed.id} and lease_expires_at is not null and attempt_count = ${claimed.attempt_count}
      returning id
    )
    insert into webhook_delivery_attempts
      (delivery_id, attempt, attempted_at, status_code, latency_ms, response_excerpt, error)
    select id, ${claimed.attempt_count}, ${now}, ${outcome.statusCode}, ${outcome.latencyMs}, null, ${reason}
    from d
    returning delivery_id as id
  `.execute(deps.db);
  if (rows.length) await enqueueDeliveries(deps, [{ id: claimed.id, attempt_count: claimed.attempt_count }]);
}

/**
 * Turns a webhook off (410 Gone, or failing continuously) and says so with a `webhook.disabled`
 * event in the same transaction. Deliveries still scheduled end `dead` when their jobs run.
 */
export async function disableWebhook(
  deps: Pick<WebhookDeps, 'db' | 'clock' | 'wake'>,
  webhookId: string,
  reason: string,
): Promise<boolean> {
  const disabled = await deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const row = await trx
      .updateTable('webhooks')
      .set({ is_active: false, disabled_at: now, disabled_reason: reason, updated_at: now })
      .where('id', '=', webhookId)
      .where('is_active', '=', true)
      .returning(['id', 'url', 'agent_id'])
      .executeTakeFirst();
    if (!row) return false;
    await recordEvent(trx, null, 'webhook.disabled', { webhookId, url: row.url, reason }, { agentId: row.agent_id });
    await recordAudit(trx, systemActor, {
      action: 'webhooks.disable',
      targetType: 'webhook',
      targetId: webhookId,
      details: { reason },
    });
    return true;
  });
  if (disabled) deps.wake?.announce();
  return disabled;
}
