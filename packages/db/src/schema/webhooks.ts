import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface WebhookTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  url: string;
  secret: string | null;
  /** Still signs (alongside `secret`) until previous_secret_expires_at, after a rotation. */
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  events: string[];
  filters: Generated<unknown>;
  max_retries: Generated<number>;
  retry_delay_seconds: Generated<number[]>;
  is_active: Generated<boolean>;
  consecutive_failures: Generated<number>;
  disabled_at: Date | null;
  disabled_reason: string | null;
  total_deliveries: Generated<number>;
  successful_deliveries: Generated<number>;
  failed_deliveries: Generated<number>;
  last_triggered_at: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_error: string | null;
  /** The owning key; no foreign key. */
  api_key_id: string | null;
  /** Set when a key bound to an agent made it: only that agent's events reach it. */
  agent_id: string | null;
  /** When the current run of failed attempts began (null after a success). */
  failing_since: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type WebhookRow = Selectable<WebhookTable>;
export type NewWebhookRow = Insertable<WebhookTable>;
export type WebhookRowUpdate = Updateable<WebhookTable>;

export interface WebhookDeliveryTable {
  /** The stable `webhook-id` header, the same on every attempt. */
  id: Generated<string>;
  webhook_id: string;
  /** events.seq (int8, as a string); null for test deliveries. */
  event_id: string | null;
  event_type: string;
  payload: unknown;
  status: Generated<'pending' | 'delivering' | 'success' | 'failed' | 'dead'>;
  attempt_count: Generated<number>;
  next_attempt_at: Generated<Date | null>;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  completed_at: Date | null;
  /**
   * Set while an attempt is in flight (the API reports the delivery as `delivering`; the stored
   * status stays pending or failed, so taking the lease is a HOT update). Past it, the attempt's
   * worker is taken for dead and the delivery is tried again.
   */
  lease_expires_at: Date | null;
  /** Attempts since the delivery was created or last replayed (max_retries counts against these). */
  round_attempts: Generated<number>;
}
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type NewWebhookDeliveryRow = Insertable<WebhookDeliveryTable>;
export type WebhookDeliveryRowUpdate = Updateable<WebhookDeliveryTable>;

export interface WebhookDeliveryAttemptTable {
  /** bigserial, as a string */
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  attempted_at: Generated<Date>;
  status_code: number | null;
  latency_ms: number | null;
  response_excerpt: string | null;
  error: string | null;
}
export type WebhookDeliveryAttemptRow = Selectable<WebhookDeliveryAttemptTable>;
export type NewWebhookDeliveryAttemptRow = Insertable<WebhookDeliveryAttemptTable>;
export type WebhookDeliveryAttemptRowUpdate = Updateable<WebhookDeliveryAttemptTable>;

export interface WebhookTables {
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptTable;
}
