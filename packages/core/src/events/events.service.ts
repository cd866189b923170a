import { type ActionData, type ActionOutput, OraError } from '@ora/contracts';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import type { Actor, Db } from '../shared/deps';
import { type EventPosition, type EventReadFilter, LOG_START, positionAfterSeq, readEvents } from './event-log';

/** What a key may read of the event log: a key bound to an agent sees only that agent's events. */
export function eventFilterFor(actor: Pick<Actor, 'agentId'>, wanted: EventReadFilter): EventReadFilter {
  if (actor.agentId && wanted.agentId && wanted.agentId !== actor.agentId) {
    throw new OraError({ code: 'FORBIDDEN', message: 'A key bound to an agent can only read that agent’s events' });
  }
  return {
    ...(wanted.types ? { types: wanted.types } : {}),
    ...(wanted.taskId ? { taskId: wanted.taskId } : {}),
    ...(actor.agentId || wanted.agentId ? { agentId: (actor.agentId ?? wanted.agentId) as string } : {}),
  };
}

const CursorShape = z.tuple([z.string().regex(/^\d{1,20}$/), z.string().regex(/^\d{1,19}$/)]);

/** `events.list`: events in log order after a position (oldest first), for catch-up. */
export async function listEvents(
  deps: { db: Db },
  actor: Actor,
  input: ActionData<'events.list'>,
): Promise<ActionOutput<'events.list'>> {
  const filter = eventFilterFor(actor, input);
  let after: EventPosition = LOG_START;
  if (input.cursor) {
    const [txid, seq] = decodeCursor(input.cursor, CursorShape);
    after = { txid, seq };
  } else if (input.after) {
    after = await positionAfterSeq(deps.db, input.after);
  }
  const rows = await readEvents(deps.db, after, input.limit + 1, filter);
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: items.map((r) => r.event),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.position.txid, last.position.seq]) : null,
  };
}
