import type { ActionName } from '@ora/contracts';
import { agentsActions } from './agents.actions';
import { analyticsActions } from './analytics.actions';
import { auditActions } from './audit.actions';
import type { ActionHandlers } from './context';
import { eventsActions } from './events.actions';
import { keysActions } from './keys.actions';
import { leadsActions } from './leads.actions';
import { mediaActions } from './media.actions';
import { memoryActions } from './memory.actions';
import { postsActions } from './posts.actions';
import { settingsActions } from './settings.actions';
import { syncActions } from './sync.actions';
import { tasksActions } from './tasks.actions';
import { webhooksActions } from './webhooks.actions';

/** Every action of the catalogue in contracts has exactly one handler here (checked by the type). */
export const actionHandlers: ActionHandlers<ActionName> = {
  ...keysActions,
  ...auditActions,
  ...postsActions,
  ...mediaActions,
  ...leadsActions,
  ...analyticsActions,
  ...settingsActions,
  ...tasksActions,
  ...webhooksActions,
  ...eventsActions,
  ...memoryActions,
  ...agentsActions,
  ...syncActions,
};
