import { z } from 'zod';
import { Id, Timestamp } from './common';

const TaskRef = {
  taskId: Id,
  chainId: Id.nullable(),
  taskType: z.string(),
  title: z.string(),
  agentId: Id.nullable(),
  status: z.string(),
};

/**
 * The event catalogue: every event type ORA emits, with its payload schema and version. Events are
 * written to the outbox in the same transaction as the change they describe.
 */
export const eventCatalog = {
  'task.created': { version: 1, payload: z.object(TaskRef) },
  'task.started': { version: 1, payload: z.object({ ...TaskRef, attempt: z.number().int() }) },
  'task.completed': {
    version: 1,
    payload: z.object({ ...TaskRef, output: z.unknown(), durationMs: z.number().int().nullable() }),
  },
  'task.failed': {
    version: 1,
    payload: z.object({ ...TaskRef, error: z.string(), attempt: z.number().int(), willRetry: z.boolean() }),
  },
  'task.cancelled': { version: 1, payload: z.object({ ...TaskRef, reason: z.string().nullable() }) },
  'task.waiting': { version: 1, payload: z.object({ ...TaskRef, reason: z.string() }) },
  'task.expired': { version: 1, payload: z.object({ ...TaskRef, deadlineAt: Timestamp }) },
  'post.published': {
    version: 1,
    payload: z.object({
      postId: Id,
      slug: z.string(),
      title: z.string(),
      url: z.string().nullable(),
      publishedAt: Timestamp,
    }),
  },
  'lead.created': {
    version: 1,
    payload: z.object({ leadId: Id, email: z.string(), name: z.string().nullable(), source: z.string().nullable() }),
  },
  'memory.conflict': {
    version: 1,
    payload: z.object({ memoryId: Id, conflictId: Id, strategy: z.string(), outcome: z.string() }),
  },
  'sync.conflict': {
    version: 1,
    payload: z.object({
      conflictId: Id,
      clientId: z.string(),
      entityType: z.enum(['memory', 'conversation']),
      entityId: z.string(),
      strategy: z.string(),
      status: z.enum(['resolved', 'pending']),
    }),
  },
  'key.revoked': { version: 1, payload: z.object({ keyId: Id, prefix: z.string(), reason: z.string().nullable() }) },
  'webhook.disabled': {
    version: 1,
    payload: z.object({ webhookId: Id, url: z.string(), reason: z.string() }),
  },
} as const;

export type EventCatalog = typeof eventCatalog;
export const EventType = z.enum(Object.keys(eventCatalog) as [keyof EventCatalog, ...(keyof EventCatalog)[]]);
export type EventType = keyof EventCatalog;
export type EventPayload<T extends EventType> = z.infer<EventCatalog[T]['payload']>;

/** An event as readers (events.list, the live stream, webhooks) see it. */
export const OraEvent = z.object({
  id: Id,
  seq: z.string().meta({ description: 'Position in the event log; resume after it' }),
  type: z.string(),
  version: z.number().int(),
  payload: z.unknown(),
  agentId: Id.nullable(),
  taskId: Id.nullable(),
  createdAt: Timestamp,
});
export type OraEvent = z.infer<typeof OraEvent>;

/** Does `type` match `pattern`: an event type, `<domain>.*`, or `*`? */
export function eventMatchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

const eventDomains = [...new Set(Object.keys(eventCatalog).map((t) => t.split('.')[0]))];

/** An event type of the catalogue, `<domain>.*` (e.g. `task.*`) or `*` for every event. */
export const EventPattern = z
  .string()
  .max(100)
  .refine(
    (p) => p === '*' || Object.hasOwn(eventCatalog, p) || (p.endsWith('.*') && eventDomains.includes(p.slice(0, -2))),
    { message: `expected an event type, "<domain>.*" (domains: ${eventDomains.join(', ')}) or "*"` },
  )
  .meta({ description: 'An event type, "<domain>.*" or "*"' });
export type EventPattern = z.infer<typeof EventPattern>;

/** A position in the event log: an event's `seq` (the live stream's `id:` and Last-Event-ID). */
export const EventSeq = z
  .string()
  .regex(/^\d{1,19}$/, 'an event seq (digits)')
  .meta({ description: "An event's seq: read the events after it" });

export const EventsListInput = z.object({
  cursor: z.string().max(500).optional().meta({ description: 'The nextCursor of the previous page' }),
  after: EventSeq.optional().meta({
    description: 'Start after this event (its seq, as the live stream sends it); default: the oldest event',
  }),
  limit: z.number().int().min(1).max(500).default(100),
  types: z.array(EventPattern).min(1).max(50).optional(),
  agentId: Id.optional(),
  taskId: Id.optional(),
});
export const EventsListOutput = z.object({
  items: z.array(OraEvent),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as cursor for the next page; null when no more events are there yet' }),
});
