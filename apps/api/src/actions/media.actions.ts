import { deleteMedia, getMedia, listMedia, uploadMedia } from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const mediaDeps = (ctx: ActionContext) => ({
  db: ctx.system.database.db,
  clock: ctx.system.site.clock,
  store: ctx.system.site.media,
  limits: ctx.system.site.mediaLimits,
  log: ctx.log,
});

export const mediaActions: ActionHandlers<'media.upload' | 'media.list' | 'media.get' | 'media.delete'> = {
  'media.upload': (ctx, data) => uploadMedia(mediaDeps(ctx), ctx.actor, data),
  'media.list': (ctx, data) => listMedia(mediaDeps(ctx), ctx.actor, data),
  'media.get': (ctx, data) => getMedia(mediaDeps(ctx), ctx.actor, data.id),
  'media.delete': (ctx, data) =>
    deleteMedia(mediaDeps(ctx), ctx.actor, data).finally(() => ctx.system.site.pages.clear()),
};
