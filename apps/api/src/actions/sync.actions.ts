import { listConflicts, pullChanges, pushMutations, resolveConflict, type SyncDeps, syncStatus } from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

/** Sync works on the memory deps plus the sync settings of the config. */
function syncDeps(ctx: ActionContext): SyncDeps {
  return { ...ctx.system.memory.deps, sync: ctx.system.config.sync };
}

export const syncActions: ActionHandlers<
  'sync.status' | 'sync.push' | 'sync.pull' | 'sync.resolve' | 'sync.conflicts'
> = {
  'sync.status': (ctx, data) => syncStatus(syncDeps(ctx), ctx.actor, data),
  'sync.push': (ctx, data) => pushMutations(syncDeps(ctx), ctx.actor, data),
  'sync.pull': (ctx, data) => pullChanges(syncDeps(ctx), ctx.actor, data),
  'sync.resolve': (ctx, data) => resolveConflict(syncDeps(ctx), ctx.actor, data),
  'sync.conflicts': (ctx, data) => listConflicts(syncDeps(ctx), ctx.actor, data),
};
