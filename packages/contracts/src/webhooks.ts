import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';
import { EventPattern } from './events';

const Scalar = z.union([z.string().max(500), z.number(), z.boolean()]);

/** Which events of the subscribed types reach a webhook, beyond their type. */
export const WebhookFilters = z
  .object({
    agentIds: z.array(Id).min(1).max(100).optional().meta({ description: 'Only events of these agents' }),
    taskTypes: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'Only events whose payload has one of these taskType values' }),
    payload: z
      .record(
        z.string().regex(/^[A-Za-z_]\w{0,99}$/, 'a top-level payload field name'),
        z.union([Scalar, z.array(Scalar).min(1).max(100)]),
      )
      .optional()
      .meta({ description: 'Only events whose payload field equals the value (or one of the values given)' }),
  })
  .strict();
export type WebhookFilters = z.infer<typeof WebhookFilters>;

export const WebhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .meta({ description: 'http(s) URL; addresses it resolves to must be public unless ORA_WEBHOOK_ALLOW_PRIVATE' });

export const Webhook = z
  .object({
    id: Id,
    name: z.string(),
    description: z.string().nullable(),
    url: z.string(),
    events: z.array(z.string()),
    filters: WebhookFilters,
    maxRetries: z.number().int(),
    retryDelaySeconds: z.array(z.number().int()),
    isActive: z.boolean(),
    agentId: Id.nullable().meta({ description: 'Set for webhooks of an agent-bound key: only its events arrive' }),
    disabledAt: Timestamp.nullable(),
    disabledReason: z.string().nullable(),
    previousSecretExpiresAt: Timestamp.nullable().meta({
      description: 'Until then deliveries are signed with the previous secret as well (after rotate_secret)',
    }),
    totalDeliveries: z.number().int(),
    successfulDeliveries: z.number().int(),
    failedDeliveries: z.number().int(),
    consecutiveFailures: z.number().int(),
    lastTriggeredAt: Timestamp.nullable(),
    lastSuccessAt: Timestamp.nullable(),
    lastFailureAt: Timestamp.nullable(),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ description: 'A webhook, without its secret' });
export type Webhook = z.infer<typeof Webhook>;

const Name = z.string().trim().min(1).max(200);
const RetryDelays = z
  .array(
    z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600),
  )
  .min(1)
  .max(20)
  .meta({ description: 'Seconds before retry n (the last value repeats); each gets up to 10% jitter' });

export const WebhookSettings = z.object({
  description: z.string().max(2000).nullable().optional(),
  events: z.array(EventPattern).min(1).max(50).optional(),
  filters: WebhookFilters.optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
  retryDelaySeconds: RetryDelays.optional(),
});

export const WebhooksCreateInput = WebhookSettings.extend({
  name: Name,
  url: WebhookUrl,
  events: z.array(EventPattern).min(1).max(50),
  isActive: z.boolean().default(true),
});
export const WebhookWithSecret = z.object({
  webhook: Webhook,
  secret: z.string().meta({ description: 'whsec_ + base64: verifies the webhook-signature header' }),
});

export const WebhooksListInput = PageInput.extend({
  isActive: z.boolean().optional().meta({ description: 'Only active (true) or disabled (false) webhooks' }),
});
export const WebhooksListOutput = page(Webhook);

export const WebhookIdInput = z.object({ id: Id });

export const WebhooksUpdateInput = WebhookSettings.extend({
  id: Id,
  name: Name.optional(),
  url: WebhookUrl.optional(),
  isActive: z
    .boolean()
    .optional()
    .meta({ description: 'false pauses deliveries; true re-enables a disabled webhook and clears its failure count' }),
});

export const WebhooksDeleteOutput = z.object({ id: Id, deleted: z.literal(true) });

export const WebhooksRotateSecretInput = z.object({
  id: Id,
  gracePeriodSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(24 * 3600)
    .meta({ description: 'Sign with the old secret too for this long, so receivers can switch over' }),
});

export const WebhookDeliveryStatus = z.enum(['pending', 'delivering', 'success', 'failed', 'dead']).meta({
  description:
    'pending: not tried yet; delivering: an attempt is in flight; failed: retry scheduled; success; dead: no retry left',
});
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>;

export const WebhookDeliveryAttempt = z.object({
  attempt: z.number().int(),
  attemptedAt: Timestamp,
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().int().nullable(),
  responseExcerpt: z.string().nullable(),
  error: z.string().nullable(),
});
export type WebhookDeliveryAttempt = z.infer<typeof WebhookDeliveryAttempt>;

export const WebhookDelivery = z.object({
  id: Id.meta({ description: 'The webhook-id header: the same on every attempt and replay' }),
  webhookId: Id,
  eventSeq: z.string().nullable().meta({ description: "The event's seq; null for webhooks.test" }),
  eventType: z.string(),
  payload: z.unknown().meta({ description: 'The JSON body sent' }),
  status: WebhookDeliveryStatus,
  attemptCount: z.number().int(),
  nextAttemptAt: Timestamp.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  completedAt: Timestamp.nullable(),
  attempts: z.array(WebhookDeliveryAttempt),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhooksTestInput = z.object({ id: Id });

export const WebhooksDeliveriesInput = PageInput.extend({
  webhookId: Id,
  status: WebhookDeliveryStatus.optional(),
  deliveryId: Id.optional(),
});
export const WebhooksDeliveriesOutput = page(WebhookDelivery);

export const WebhooksReplayInput = z
  .object({
    deliveryId: Id.optional().meta({ description: 'Send this delivery again (same webhook-id)' }),
    webhookId: Id.optional(),
    since: Timestamp.optional().meta({ description: 'Send again every delivery that failed for good since then' }),
    limit: z.number().int().min(1).max(10_000).default(1000),
  })
  .refine((v) => v.deliveryId !== undefined || (v.webhookId !== undefined && v.since !== undefined), {
    message: 'give deliveryId, or webhookId and since',
  });
export const WebhooksReplayOutput = z.object({
  replayed: z.number().int(),
  deliveryIds: z.array(Id),
});
