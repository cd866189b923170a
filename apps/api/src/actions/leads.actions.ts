import { createLead, deleteLead, getLead, listLeads, updateLead } from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const leadDeps = (ctx: ActionContext) => ({ db: ctx.system.database.db, clock: ctx.system.site.clock });

export const leadsActions: ActionHandlers<
  'leads.create' | 'leads.get' | 'leads.list' | 'leads.update' | 'leads.delete'
> = {
  'leads.create': (ctx, data) => createLead(leadDeps(ctx), ctx.actor, data),
  'leads.get': (ctx, data) => getLead(leadDeps(ctx), ctx.actor, data.id),
  'leads.list': (ctx, data) => listLeads(leadDeps(ctx), ctx.actor, data),
  'leads.update': (ctx, data) => updateLead(leadDeps(ctx), ctx.actor, data),
  'leads.delete': (ctx, data) => deleteLead(leadDeps(ctx), ctx.actor, data),
};
