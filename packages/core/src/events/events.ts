import type { EventPayload, EventType } from '@ora/contracts';
import type { Actor, DbOrTx } from '../shared/deps';

export interface EventContext {
  agentId?: string | null;
  taskId?: string | null;
}

/**
 * Appends a domain event to the outbox. Call it with the transaction that makes the change, so the
 * event exists exactly when the change does; dispatchers read the outbox afterwards.
 */
export async function recordEvent<T extends EventType>(
  db: DbOrTx,
  actor: Pick<Actor, 'keyId'> | null,
  type: T,
  payload: EventPayload<T>,
  context: EventContext = {},
): Promise<{ id: string; seq: string }> {
  return db
    .insertInto('events')
    .values({
      type,
      payload: JSON.stringify(payload),
      agent_id: context.agentId ?? null,
      task_id: context.taskId ?? null,
      key_id: actor?.keyId ?? null,
    })
    .returning(['id', 'seq'])
    .executeTakeFirstOrThrow();
}

export interface PendingEvent<T extends EventType = EventType> {
  type: T;
  payload: EventPayload<T>;
  context?: EventContext;
}

/** Appends several events in one statement, in order (same transaction rule as recordEvent). */
export async function recordEvents(
  db: DbOrTx,
  actor: Pick<Actor, 'keyId'> | null,
  events: ReadonlyArray<PendingEvent>,
): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('events')
    .values(
      events.map((e) => ({
        type: e.type,
        payload: JSON.stringify(e.payload),
        agent_id: e.context?.agentId ?? null,
        task_id: e.context?.taskId ?? null,
        key_id: actor?.keyId ?? null,
      })),
    )
    .execute();
}
