import { z } from 'zod';
import type { EnqueueOptions, Job, QueueDriver } from '../queue/queue-driver';

/**
 * Every job ORA puts on a queue: its queue, payload schema and default options. Queues carry ids
 * only; the state is in Postgres, so every handler is idempotent. Tasks are consumed by the
 * TaskWorker (leases, fencing); every other job by `startJobConsumers`, which must be given a
 * handler for each of them (checked by the `JobHandlers` type).
 */
export const jobCatalog = {
  'task.execute': {
    queue: 'tasks',
    payload: z.object({ taskId: z.uuid() }),
    options: {} as EnqueueOptions,
  },
  // One attempt of each of a few webhook deliveries (sent side by side; a burst of events shares
  // jobs, so the queue's cost is not paid per delivery). The retry schedule lives on the delivery
  // rows; the job's own tries only cover failures to reach the database.
  'webhook.deliver': {
    queue: 'webhooks',
    payload: z.object({ deliveryIds: z.array(z.uuid()).min(1).max(100) }),
    options: { attempts: 3, backoffMs: 1000 } as EnqueueOptions,
  },
  // Embeds memories whose text (or the configured model) changed; enqueued after the write
  // commits, and re-enqueued by the memory sweep for what a lost job left.
  'memory.embed': {
    queue: 'memory',
    payload: z.object({ memoryIds: z.array(z.uuid()).min(1).max(100) }),
    options: { attempts: 3, backoffMs: 2000 } as EnqueueOptions,
  },
  // Folds a long conversation's older messages into its summary (the messages stay).
  'conversation.summarize': {
    queue: 'memory',
    payload: z.object({ conversationId: z.uuid() }),
    options: { attempts: 2, backoffMs: 5000 } as EnqueueOptions,
  },
} as const;

interface CatalogEntry {
  queue: string;
  payload: z.ZodType;
  options: EnqueueOptions;
}
const entries: Record<string, CatalogEntry> = jobCatalog;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]['payload']>;

/** Jobs other than task execution, each with its handler. */
export type GenericJobName = Exclude<JobName, 'task.execute'>;
export type JobHandlers = {
  [N in GenericJobName]: (payload: JobPayload<N>, job: Job, signal: AbortSignal) => Promise<void>;
};

/** Enqueues a job of the catalogue, typed by its name. */
export async function enqueueJob<N extends JobName>(
  queue: QueueDriver,
  name: N,
  payload: JobPayload<N>,
  options: EnqueueOptions = {},
): Promise<void> {
  const entry = jobCatalog[name];
  await queue.enqueue(entry.queue, name, entry.payload.parse(payload), { ...entry.options, ...options });
}

/** Consumes every queue of the catalogue except the tasks queue, routing each job to its handler. */
export function startJobConsumers(
  queue: QueueDriver,
  handlers: JobHandlers,
  options: { concurrency: number; concurrencyByQueue?: Record<string, number> },
): { close(deadlineMs?: number): Promise<void> } {
  const names = Object.keys(handlers) as GenericJobName[];
  const queues = [...new Set(names.map((n) => (entries[n] as CatalogEntry).queue))];
  const consumers = queues.map((queueName) =>
    queue.consume(
      queueName,
      async (job, signal) => {
        const handler = (
          handlers as Record<string, (payload: unknown, job: Job, signal: AbortSignal) => Promise<void>>
        )[job.name];
        const entry = entries[job.name];
        if (!handler || !entry) throw new Error(`no handler for job ${job.name} on queue ${queueName}`);
        await handler(entry.payload.parse(job.payload), job, signal);
      },
      { concurrency: options.concurrencyByQueue?.[queueName] ?? options.concurrency },
    ),
  );
  return {
    async close(deadlineMs = 10_000) {
      await Promise.all(consumers.map((c) => c.close({ deadlineMs })));
    },
  };
}
