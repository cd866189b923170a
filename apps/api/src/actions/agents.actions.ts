import {
  type AgentDeps,
  delegateToOra,
  getAgent,
  listAgents,
  runAgent,
  systemClock,
  type TaskDeps,
  updateAgent,
} from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const agentDeps = (ctx: ActionContext): AgentDeps => ({
  db: ctx.system.database.db,
  clock: systemClock,
  services: ctx.system.agents.services,
});

const taskDeps = (ctx: ActionContext): TaskDeps => ({
  db: ctx.system.database.db,
  clock: systemClock,
  dispatch: ctx.system.tasks.dispatcher,
});

export const agentsActions: ActionHandlers<
  'agents.list' | 'agents.get' | 'agents.update' | 'agents.run' | 'ora.delegate'
> = {
  'agents.list': (ctx, data) => listAgents(agentDeps(ctx), ctx.actor, data),
  'agents.get': (ctx, data) => getAgent(agentDeps(ctx), ctx.actor, data),
  'agents.update': (ctx, data) => updateAgent(agentDeps(ctx), ctx.actor, data),
  'agents.run': (ctx, data) => runAgent(taskDeps(ctx), ctx.actor, data),
  'ora.delegate': (ctx, data) => delegateToOra(taskDeps(ctx), ctx.actor, data),
};
