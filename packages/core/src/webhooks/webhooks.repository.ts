import type { Webhook, WebhookDelivery, WebhookDeliveryAttempt, WebhookFilters } from '@ora/contracts';
import type { WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookRow } from '@ora/db';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function webhookRowToWebhook(row: WebhookRow, now: Date): Webhook {
  const rotating = row.previous_secret && row.previous_secret_expires_at && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    url: row.url,
    events: row.events,
    filters: (row.filters ?? {}) as WebhookFilters,
    maxRetries: row.max_retries,
    retryDelaySeconds: row.retry_delay_seconds,
    isActive: row.is_active,
    agentId: row.agent_id,
    disabledAt: iso(row.disabled_at),
    disabledReason: row.disabled_reason,
    previousSecretExpiresAt: rotating ? iso(row.previous_secret_expires_at) : null,
    totalDeliveries: row.total_deliveries,
    successfulDeliveries: row.successful_deliveries,
    failedDeliveries: row.failed_deliveries,
    consecutiveFailures: row.consecutive_failures,
    lastTriggeredAt: iso(row.last_triggered_at),
    lastSuccessAt: iso(row.last_success_at),
    lastFailureAt: iso(row.last_failure_at),
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function attemptRowToAttempt(row: WebhookDeliveryAttemptRow): WebhookDeliveryAttempt {
  return {
    attempt: row.attempt,
    attemptedAt: row.attempted_at.toISOString(),
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    responseExcerpt: row.response_excerpt,
    error: row.error,
  };
}

export function deliveryRowToDelivery(
  row: WebhookDeliveryRow,
  attempts: readonly WebhookDeliveryAttemptRow[],
): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventSeq: row.event_id === null ? null : String(row.event_id),
    eventType: row.event_type,
    payload: row.payload,
    // In flight: it holds a lease (the stored status is still pending or failed).
    status: row.lease_expires_at && (row.status === 'pending' || row.status === 'failed') ? 'delivering' : row.status,
    attemptCount: row.attempt_count,
    nextAttemptAt: iso(row.next_attempt_at),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    completedAt: iso(row.completed_at),
    attempts: attempts.map(attemptRowToAttempt),
  };
}

/** The job id of a delivery's next attempt: a repeat enqueue of the same attempt is a no-op. */
export function deliveryJobId(deliveryId: string, attemptCount: number): string {
  return `wd_${deliveryId}_${attemptCount}`;
}
