import { getSettings, setSettings } from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const settingsDeps = (ctx: ActionContext) => ({ db: ctx.system.database.db, clock: ctx.system.site.clock });

export const settingsActions: ActionHandlers<'settings.get' | 'settings.set'> = {
  'settings.get': (ctx) => getSettings(settingsDeps(ctx)),
  'settings.set': (ctx, data) =>
    setSettings(settingsDeps(ctx), ctx.actor, data).finally(() => ctx.system.site.pages.clear()),
};
