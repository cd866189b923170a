import { action } from './action';
import { EventsListInput, EventsListOutput } from './events';

/** The `events.*` actions; the live stream is `GET /api/ora/events` (Server-Sent Events). */
export const eventsActions = {
  'events.list': action({
    summary: 'Events in log order after a position, for catch-up; the live stream sends the same events',
    scope: 'events:read',
    mutates: false,
    input: EventsListInput,
    output: EventsListOutput,
  }),
};
