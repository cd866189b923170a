import { BullMqDriver, type BullMqDriverOptions } from './bullmq.driver';
import { EmbeddedDriver, type EmbeddedDriverOptions } from './embedded.driver';
import type { QueueDriver } from './queue-driver';

export type { BullMqDriverOptions } from './bullmq.driver';
export { BullMqDriver } from './bullmq.driver';
export type { EmbeddedDriverOptions } from './embedded.driver';
export { EmbeddedDriver } from './embedded.driver';
export type { QueueLogger } from './job-options';
export { MAX_PRIORITY, MIN_PRIORITY } from './job-options';
export type {
  ConsumeOptions,
  Consumer,
  EnqueueOptions,
  Job,
  JobProcessor,
  QueueCounts,
  QueueDriver,
} from './queue-driver';
export { NonRetryableJobError } from './queue-driver';

export type QueueDriverOptions =
  | ({ kind: 'bullmq' } & BullMqDriverOptions)
  | ({ kind: 'embedded' } & EmbeddedDriverOptions);

/**
 * The queue driver for the configured mode: BullMQ on Redis (distributed) or the embedded driver
 * on the database (default). Both run the same conformance suite.
 */
export function createQueueDriver(options: QueueDriverOptions): QueueDriver {
  const { kind, ...rest } = options;
  return kind === 'bullmq'
    ? new BullMqDriver(rest as BullMqDriverOptions)
    : new EmbeddedDriver(rest as EmbeddedDriverOptions);
}
