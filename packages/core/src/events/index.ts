export type { EventFeedOptions, FeedListener } from './event-feed';
export { EventFeed } from './event-feed';
export type { EventPosition, EventReadFilter, LoggedEvent } from './event-log';
export {
  comparePositions,
  eventPassesFilter,
  eventRowToEvent,
  hasEventsAfter,
  headPosition,
  LOG_START,
  positionAfterSeq,
  readEvents,
} from './event-log';
export type { EventStreamOptions } from './event-stream';
export { EventStream } from './event-stream';
export { eventFilterFor, listEvents } from './events.service';
export type { EventWakeSignal } from './wake-signal';
export { LocalWakeSignal, RedisWakeSignal } from './wake-signal';
