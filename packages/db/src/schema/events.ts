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
  /** Set once the dispatcher has fanned the event out to webhooks. */
  dispatched_at: Date | null;
}
export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
export type EventRowUpdate = Updateable<EventTable>;

export interface EventTables {
  events: EventTable;
}
