export type { AddressClass, ResolvedAddress, Resolver, TargetPolicy } from './ssrf-guard';
export {
  assertWebhookUrl,
  BlockedAddressError,
  blockedClass,
  classifyAddress,
  guardedLookup,
  parseIPv4,
  parseIPv6,
  resolveAllowed,
  systemResolver,
} from './ssrf-guard';
export { attemptLeaseMs, disableWebhook, WebhookDeliverer, webhookRetryDelayMs } from './webhook-delivery';
export type { DispatchDeps, DispatchResult } from './webhook-dispatcher';
export { deliveryBody, dispatchEvents, drainEvents, WebhookDispatcher, webhookWants } from './webhook-dispatcher';
export type { HttpOutcome, WebhookHttpOptions } from './webhook-http';
export { parseRetryAfter, WebhookHttpClient } from './webhook-http';
export type { WebhookMaintenanceOptions, WebhookMaintenanceReport } from './webhook-maintenance';
export { runWebhookMaintenance } from './webhook-maintenance';
export { generateWebhookSecret, SECRET_PREFIX, signWebhook, webhookHeaders } from './webhook-signature';
export type { WebhookDeliverySettings, WebhookDeps } from './webhooks.service';
export {
  createWebhook,
  deleteWebhook,
  enqueueDeliveries,
  getWebhook,
  listDeliveries,
  listWebhooks,
  replayDeliveries,
  rotateWebhookSecret,
  signingSecrets,
  testWebhook,
  updateWebhook,
} from './webhooks.service';
