import { analyticsForPost, analyticsSummary } from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const analyticsDeps = (ctx: ActionContext) => ({ db: ctx.system.database.db, clock: ctx.system.site.clock });

export const analyticsActions: ActionHandlers<'analytics.summary' | 'analytics.post'> = {
  'analytics.summary': (ctx, data) => analyticsSummary(analyticsDeps(ctx), data),
  'analytics.post': (ctx, data) => analyticsForPost(analyticsDeps(ctx), data),
};
