import type { z } from 'zod';
import type { ActionDefinition } from './action';
import { agentsActions, oraActions } from './agents.actions';
import { analyticsActions } from './analytics.actions';
import { auditActions } from './audit.actions';
import { conversationsActions } from './conversations.actions';
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

export type { ActionDefinition } from './action';

/** The whole catalogue of `POST /api/ora`: each domain contributes its own map. */
export const actions = {
  ...keysActions,
  ...auditActions,
  ...tasksActions,
  ...postsActions,
  ...mediaActions,
  ...leadsActions,
  ...analyticsActions,
  ...settingsActions,
  ...webhooksActions,
  ...eventsActions,
  ...memoryActions,
  ...conversationsActions,
  ...agentsActions,
  ...syncActions,
  ...oraActions,
} satisfies Record<string, ActionDefinition>;

export type Actions = typeof actions;
export type ActionName = keyof Actions;
export type ActionInput<A extends ActionName> = z.input<Actions[A]['input']>;
export type ActionOutput<A extends ActionName> = z.output<Actions[A]['output']>;
export type ActionData<A extends ActionName> = z.output<Actions[A]['input']>;

export const actionNames = Object.keys(actions) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(actions, name);
}
