import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  replayDeliveries,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const deps = (ctx: ActionContext) => ctx.system.events.webhookDeps;

export const webhooksActions: ActionHandlers<
  | 'webhooks.create'
  | 'webhooks.list'
  | 'webhooks.get'
  | 'webhooks.update'
  | 'webhooks.delete'
  | 'webhooks.test'
  | 'webhooks.rotate_secret'
  | 'webhooks.deliveries'
  | 'webhooks.replay'
> = {
  'webhooks.create': (ctx, data) => createWebhook(deps(ctx), ctx.actor, data),
  'webhooks.list': (ctx, data) => listWebhooks(deps(ctx), ctx.actor, data),
  'webhooks.get': (ctx, data) => getWebhook(deps(ctx), ctx.actor, data.id),
  'webhooks.update': (ctx, data) => updateWebhook(deps(ctx), ctx.actor, data),
  'webhooks.delete': (ctx, data) => deleteWebhook(deps(ctx), ctx.actor, data.id),
  'webhooks.test': (ctx, data) => testWebhook(deps(ctx), ctx.actor, data.id),
  'webhooks.rotate_secret': (ctx, data) => rotateWebhookSecret(deps(ctx), ctx.actor, data),
  'webhooks.deliveries': (ctx, data) => listDeliveries(deps(ctx), ctx.actor, data),
  'webhooks.replay': (ctx, data) => replayDeliveries(deps(ctx), ctx.actor, data),
};
