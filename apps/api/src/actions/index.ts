import type { ActionName } from '@ora/contracts';
import { analyticsActions } from './analytics.actions';
import type { ActionHandlers } from './context';
import { keysActions } from './keys.actions';
import { leadsActions } from './leads.actions';
import { mediaActions } from './media.actions';
import { postsActions } from './posts.actions';
import { settingsActions } from './settings.actions';
import { tasksActions } from './tasks.actions';

/** Every action of the catalogue in contracts has exactly one handler here (checked by the type). */
export const actionHandlers: ActionHandlers<ActionName> = {
  ...keysActions,
  ...postsActions,
  ...mediaActions,
  ...leadsActions,
  ...analyticsActions,
  ...settingsActions,
  ...tasksActions,
};
