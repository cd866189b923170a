import { listEvents } from '@ora/core';
import type { ActionHandlers } from './context';

export const eventsActions: ActionHandlers<'events.list'> = {
  'events.list': (ctx, data) => listEvents({ db: ctx.system.database.db }, ctx.actor, data),
};
