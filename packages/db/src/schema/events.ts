import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface EventTable {
  /** bigserial, as a string: the order events are read in. */
  seq: Generated<string>;
  id: Generated<string>;
  type: string;
  version: Generated<number>;
  payload: Generated<unknown>;
  agent_id: string | null;
  task_id: string | null;
  key_id: string | null;
  created_at: Generated<Date>;
  /** Not written: the webhook dispatcher keeps its position in event_cursors instead. */
  dispatched_at: Date | null;
  /**
   * xid8 of the transaction that wrote the event, as a string. Readers go in (txid, seq) order and
   * only below pg_snapshot_xmin(pg_current_snapshot()), so no event can appear behind them.
   */
  txid: Generated<string>;
}
export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
export type EventRowUpdate = Updateable<EventTable>;

/** A durable reader's position in the event log (the webhook dispatcher's, by name). */
export interface EventCursorTable {
  name: string;
  /** xid8, as a string */
  txid: string;
  /** int8, as a string */
  seq: string;
  updated_at: Generated<Date>;
}
export type EventCursorRow = Selectable<EventCursorTable>;

export interface EventTables {
  events: EventTable;
  event_cursors: EventCursorTable;
}
