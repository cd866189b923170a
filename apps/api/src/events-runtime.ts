import {
  type Db,
  EventFeed,
  type EventWakeSignal,
  LocalWakeSignal,
  type Logger,
  type QueueDriver,
  RedisWakeSignal,
  type Resolver,
  systemClock,
  systemResolver,
  WebhookDeliverer,
  type WebhookDeps,
  WebhookDispatcher,
  WebhookHttpClient,
} from '@ora/core';
import type { Redis } from 'ioredis';
import type { Config } from './env';

/**
 * Events and webhooks in one process: the wake-up signal (Redis pub/sub across processes when
 * REDIS_URL is set, else in-process), the feed that reads the event log for the live streams, the
 * webhook dispatcher (woken by the feed) and the HTTP client of deliveries with its SSRF guard.
 */
export interface EventsRuntime {
  wake: EventWakeSignal;
  feed: EventFeed;
  dispatcher: WebhookDispatcher;
  /** Runs `webhook.deliver` jobs (in processes that consume the queue). */
  deliverer: WebhookDeliverer;
  /** What webhook actions and the `webhook.deliver` job are called with. */
  webhookDeps: WebhookDeps;
  close(): Promise<void>;
}

export interface EventsRuntimeOptions {
  /** How webhook hosts resolve; the system resolver by default (tests swap answers). */
  resolve?: Resolver;
}

export async function createEventsRuntime(
  config: Config,
  deps: { db: Db; redis: Redis | null; queue: QueueDriver; log: Logger },
  options: EventsRuntimeOptions = {},
): Promise<EventsRuntime> {
  const log = deps.log.child({ component: 'events' });
  const wake: EventWakeSignal = deps.redis
    ? await RedisWakeSignal.start(deps.redis, config.redisPrefix, log)
    : new LocalWakeSignal();
  const http = new WebhookHttpClient({
    policy: { allowPrivate: config.webhookAllowPrivate, resolve: options.resolve ?? systemResolver },
    timeoutMs: config.webhooks.timeoutMs,
    maxResponseBytes: config.webhooks.maxResponseBytes,
  });
  const webhookDeps: WebhookDeps = {
    db: deps.db,
    clock: systemClock,
    log,
    queue: deps.queue,
    wake,
    webhooks: {
      policy: { allowPrivate: config.webhookAllowPrivate, resolve: options.resolve ?? systemResolver },
      http,
      timeoutMs: config.webhooks.timeoutMs,
      disableAfterFailures: config.webhooks.disableAfterFailures,
      disableAfterMs: config.webhooks.disableAfterSeconds * 1000,
    },
  };
  // The dispatcher drains on every wake-up (a commit here or, through Redis, elsewhere) and polls
  // the log; the feed reads it only while live streams listen.
  const dispatcher = new WebhookDispatcher({ db: deps.db, queue: deps.queue, clock: systemClock, log });
  const unsubscribe = wake.subscribe(() => dispatcher.nudge());
  dispatcher.start(config.events.pollMs);
  const feed = new EventFeed({ db: deps.db, log, wake }, { pollMs: config.events.pollMs });
  return {
    wake,
    feed,
    dispatcher,
    deliverer: new WebhookDeliverer(webhookDeps),
    webhookDeps,
    async close() {
      unsubscribe();
      await feed.close();
      await dispatcher.stop();
      await wake.close();
      http.close();
    },
  };
}
