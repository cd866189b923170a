import { sql } from 'kysely';
import { type DispatchDeps, drainEvents } from './webhook-dispatcher';
import { enqueueDeliveries } from './webhooks.service';

export interface WebhookMaintenanceOptions {
  /** A due delivery untouched this long has lost its job (Redis lost it): it is enqueued again. */
  idleDueMs?: number;
  batchSize?: number;
}

export interface WebhookMaintenanceReport {
  dispatched: number;
  recovered: number;
  requeued: number;
}

/**
 * The webhook part of the maintenance pass: dispatch events no nudge dispatched, take back
 * attempts whose worker died (lease expired: logged, not counted against the retry budget, tried
 * again at once), and enqueue due deliveries whose job was lost. Idempotent; any process may run it.
 */
export async function runWebhookMaintenance(
  deps: DispatchDeps,
  options: WebhookMaintenanceOptions = {},
): Promise<WebhookMaintenanceReport> {
  const batchSize = options.batchSize ?? 200;
  const idleDueMs = options.idleDueMs ?? 30_000;
  const { events: dispatched } = await drainEvents(deps);
  const now = deps.clock.now();

  const { rows: recovered } = await sql<{ id: string; attempt_count: number }>`
    with lost as (
      select id from webhook_deliveries
      where status in ('pending', 'failed') and next_attempt_at is not null and lease_expires_at < ${now}
      order by next_attempt_at
      limit ${batchSize}
      for update skip locked
    ), d as (
      update webhook_deliveries w
      set status = 'failed', round_attempts = greatest(w.round_attempts - 1, 0),
          last_error = 'the worker stopped answering during the attempt (lease expired)',
          next_attempt_at = ${now}, lease_expires_at = null, updated_at = ${now}
      from lost where w.id = lost.id
      returning w.id, w.attempt_count
    ), a as (
      insert into webhook_delivery_attempts (delivery_id, attempt, attempted_at, error)
      select id, attempt_count, ${now}, 'the worker stopped answering during the attempt (lease expired)' from d
    )
    select id, attempt_count from d
  `.execute(deps.db);
  await enqueueDeliveries(deps, recovered, { recovery: true });

  const idleSince = new Date(now.getTime() - idleDueMs);
  const { rows: requeued } = await sql<{ id: string; attempt_count: number }>`
    with idle as (
      select id from webhook_deliveries
      where status in ('pending', 'failed') and next_attempt_at <= ${idleSince} and updated_at <= ${idleSince}
        and lease_expires_at is null
      order by next_attempt_at
      limit ${batchSize}
      for update skip locked
    )
    update webhook_deliveries w set updated_at = ${now}
    from idle where w.id = idle.id
    returning w.id, w.attempt_count
  `.execute(deps.db);
  await enqueueDeliveries(deps, requeued, { recovery: true });

  return { dispatched, recovered: recovered.length, requeued: requeued.length };
}
