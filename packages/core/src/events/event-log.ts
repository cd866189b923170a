import { eventMatchesPattern, type OraEvent } from '@ora/contracts';
import type { EventRow } from '@ora/db';
import { type Expression, type SqlBool, sql } from 'kysely';
import type { DbOrTx } from '../shared/deps';

/**
 * A reader's place in the event log. Events are read in (txid, seq) order, where txid is the id of
 * the transaction that wrote the event, and only below the horizon
 * `pg_snapshot_xmin(pg_current_snapshot())`: every transaction with a lower id has ended, so no
 * event can ever appear behind a position taken below it. Reading in seq order alone would skip an
 * event whose transaction took a lower seq but committed after a reader saw a higher one.
 *
 * The cost: a write transaction that stays open holds the horizon (and so every reader) back until
 * it ends. ORA's transactions are short; PGlite runs one transaction at a time anyway.
 */
export interface EventPosition {
  /** xid8, in decimal */
  txid: string;
  /** events.seq, in decimal */
  seq: string;
}

export const LOG_START: EventPosition = { txid: '0', seq: '0' };

/** An event as read from the log, with its position. */
export interface LoggedEvent {
  position: EventPosition;
  event: OraEvent;
  keyId: string | null;
}

export interface EventReadFilter {
  /** Event types, `<domain>.*` or `*`. */
  types?: readonly string[];
  agentId?: string;
  taskId?: string;
}

type LogRow = Omit<EventRow, 'txid' | 'dispatched_at'> & { txid: string };

export function comparePositions(a: EventPosition, b: EventPosition): number {
  const t = BigInt(a.txid) - BigInt(b.txid);
  if (t !== 0n) return t < 0n ? -1 : 1;
  const s = BigInt(a.seq) - BigInt(b.seq);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

export function eventRowToEvent(
  row: Pick<EventRow, 'id' | 'seq' | 'type' | 'version' | 'payload' | 'agent_id' | 'task_id' | 'created_at'>,
): OraEvent {
  return {
    id: row.id,
    seq: String(row.seq),
    type: row.type,
    version: row.version,
    payload: row.payload,
    agentId: row.agent_id,
    taskId: row.task_id,
    createdAt: row.created_at.toISOString(),
  };
}

function toLogged(row: LogRow): LoggedEvent {
  return { position: { txid: row.txid, seq: String(row.seq) }, event: eventRowToEvent(row), keyId: row.key_id };
}

/** Does a read filter let this event through (the same test the SQL makes, for in-memory fan-out)? */
export function eventPassesFilter(event: OraEvent, filter: EventReadFilter): boolean {
  if (filter.agentId && event.agentId !== filter.agentId) return false;
  if (filter.taskId && event.taskId !== filter.taskId) return false;
  if (filter.types && !filter.types.some((p) => eventMatchesPattern(p, event.type))) return false;
  return true;
}

/** The events after `after`, in log order, up to the horizon. */
export async function readEvents(
  db: DbOrTx,
  after: EventPosition,
  limit: number,
  filter: EventReadFilter = {},
): Promise<LoggedEvent[]> {
  let query = db
    .selectFrom('events')
    .select([
      'id',
      'seq',
      'type',
      'version',
      'payload',
      'agent_id',
      'task_id',
      'key_id',
      'created_at',
      sql<string>`txid::text`.as('txid'),
    ])
    .where(sql<SqlBool>`(txid, seq) > (${after.txid}::xid8, ${after.seq}::bigint)`)
    .where(sql<SqlBool>`txid < pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy(sql`txid`)
    .orderBy('seq')
    .limit(limit);
  if (filter.agentId) query = query.where('agent_id', '=', filter.agentId);
  if (filter.taskId) query = query.where('task_id', '=', filter.taskId);
  const types = filter.types;
  if (types && !types.includes('*')) {
    const exact = types.filter((t) => !t.endsWith('.*'));
    const prefixes = types.filter((t) => t.endsWith('.*')).map((t) => `${t.slice(0, -1)}%`);
    query = query.where((eb) => {
      const alternatives: Expression<SqlBool>[] = [];
      if (exact.length) alternatives.push(eb('type', 'in', exact));
      for (const prefix of prefixes) alternatives.push(eb('type', 'like', prefix));
      return eb.or(alternatives);
    });
  }
  const rows = (await query.execute()) as LogRow[];
  return rows.map(toLogged);
}

/**
 * Is there any event after `after` below the horizon? With `heldBack`: is there one the horizon
 * still holds back (written by a transaction at or above it, so another transaction is still open
 * and a read a moment later will see it)? An index probe, cheap enough to poll. The order makes it
 * one: without it the planner may read the table from its start, where every row is behind the
 * position.
 */
export async function hasEventsAfter(
  db: DbOrTx,
  after: EventPosition,
  options: { heldBack?: boolean } = {},
): Promise<boolean> {
  const row = await db
    .selectFrom('events')
    .select('seq')
    .where(sql<SqlBool>`(txid, seq) > (${after.txid}::xid8, ${after.seq}::bigint)`)
    .where(
      options.heldBack
        ? sql<SqlBool>`txid >= pg_snapshot_xmin(pg_current_snapshot())`
        : sql<SqlBool>`txid < pg_snapshot_xmin(pg_current_snapshot())`,
    )
    .orderBy(sql`txid`)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The position of the newest event below the horizon: a reader starting "now" starts here. */
export async function headPosition(db: DbOrTx): Promise<EventPosition> {
  const row = await db
    .selectFrom('events')
    .select([sql<string>`txid::text`.as('txid'), 'seq'])
    .where(sql<SqlBool>`txid < pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy(sql`txid`, 'desc')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { txid: row.txid, seq: String(row.seq) } : LOG_START;
}

/**
 * The position just after the event with this seq, for a client that names the last event it saw
 * (Last-Event-ID, `events.list` after). A seq no longer (or never) in the log resumes after the
 * newest event at or below it.
 */
export async function positionAfterSeq(db: DbOrTx, seq: string): Promise<EventPosition> {
  const row = await db
    .selectFrom('events')
    .select([sql<string>`txid::text`.as('txid'), 'seq'])
    .where('seq', '<=', seq)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { txid: row.txid, seq: String(row.seq) } : LOG_START;
}
