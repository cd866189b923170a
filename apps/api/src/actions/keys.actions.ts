import { createKey, getKey, listKeys, revokeKey, rotateKey, systemClock, updateKey } from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const keyDeps = (ctx: ActionContext) => ({
  db: ctx.system.database.db,
  clock: systemClock,
  keyChanges: ctx.system.keyChanges,
});

export const keysActions: ActionHandlers<
  'keys.whoami' | 'keys.list' | 'keys.get' | 'keys.create' | 'keys.update' | 'keys.revoke' | 'keys.rotate'
> = {
  'keys.whoami': async ({ key }) => ({
    keyId: key.keyId,
    name: key.name,
    prefix: key.prefix,
    scopes: [...key.scopes],
    agentId: key.agentId,
    expiresAt: key.expiresAt?.toISOString() ?? null,
  }),
  'keys.list': (ctx, data) => listKeys(keyDeps(ctx), ctx.actor, data),
  'keys.get': (ctx, data) => getKey(keyDeps(ctx), ctx.actor, data.id),
  'keys.create': (ctx, data) => createKey(keyDeps(ctx), ctx.actor, data, ctx.system.keyDefaults),
  'keys.update': (ctx, data) => updateKey(keyDeps(ctx), ctx.actor, data),
  'keys.revoke': (ctx, data) => revokeKey(keyDeps(ctx), ctx.actor, data),
  'keys.rotate': (ctx, data) => rotateKey(keyDeps(ctx), ctx.actor, data),
};
