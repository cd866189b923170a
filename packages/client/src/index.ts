/**
 * @ora/client: the typed client for ORA's `/api/ora`, used by the desktop, the CLI and black-box
 * tests. Imports only contracts.
 */

export type { CallOptions, OraClientOptions } from './client';
export { OraClient, OraClientError } from './client';
export type {
  LocalConversation,
  LocalMemory,
  PendingMutation,
  PullReport,
  PushReport,
  SyncActionName,
  SyncCaller,
  SyncClientOptions,
  SyncStore,
} from './sync';
export { compareMessages, InMemorySyncStore, SyncClient, unionMessages } from './sync';
export type { VerifyWebhookOptions, WebhookHeaders } from './verify-webhook';
export { verifyWebhook, WebhookVerificationError } from './verify-webhook';
