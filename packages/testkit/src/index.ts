/**
 * @ora/testkit: helpers for ORA's tests. Real services only: a database and Redis namespace of
 * their own per suite (and, as they land, fake LLM providers speaking the real wire formats and a
 * webhook receiver).
 */

export { chromiumLaunchOptions } from './browser';
export type { FakeHandler, FakeMessage, FakeProvider, FakeRequest, FakeStep, FakeToolCall } from './fake-providers';
export { FAKE_PNG_BASE64, fakeEmbedding, startFakeAnthropic, startFakeOpenAI } from './fake-providers';
export type { TestPostgres } from './services';
export {
  createTestPostgres,
  createTestRedisPrefix,
  servicesAvailable,
  TEST_POSTGRES_URL,
  TEST_REDIS_URL,
} from './services';
export type {
  ReceivedRequest,
  ReceiverReply,
  ReceiverScript,
  WebhookReceiver,
  WebhookReceiverOptions,
} from './webhook-receiver';
export { createWebhookReceiver } from './webhook-receiver';
