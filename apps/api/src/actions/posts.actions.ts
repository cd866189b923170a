import {
  createPost,
  deletePost,
  getPost,
  listPostRevisions,
  listPosts,
  publishPost,
  restorePostRevision,
  schedulePost,
  unpublishPost,
  updatePost,
} from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const postDeps = (ctx: ActionContext) => ({ db: ctx.system.database.db, clock: ctx.system.site.clock });

/** Runs a change, then drops this process's rendered public pages (they may show the old state). */
const changing = <T>(ctx: ActionContext, work: Promise<T>): Promise<T> =>
  work.finally(() => ctx.system.site.pages.clear());

export const postsActions: ActionHandlers<
  | 'posts.create'
  | 'posts.get'
  | 'posts.list'
  | 'posts.update'
  | 'posts.publish'
  | 'posts.unpublish'
  | 'posts.schedule'
  | 'posts.delete'
  | 'posts.revisions'
  | 'posts.restore'
> = {
  'posts.create': (ctx, data) => createPost(postDeps(ctx), ctx.actor, data),
  'posts.get': (ctx, data) => getPost(postDeps(ctx), ctx.actor, data),
  'posts.list': (ctx, data) => listPosts(postDeps(ctx), ctx.actor, data),
  'posts.update': (ctx, data) => changing(ctx, updatePost(postDeps(ctx), ctx.actor, data)),
  'posts.publish': (ctx, data) => changing(ctx, publishPost(postDeps(ctx), ctx.actor, data)),
  'posts.unpublish': (ctx, data) => changing(ctx, unpublishPost(postDeps(ctx), ctx.actor, data)),
  'posts.schedule': (ctx, data) => changing(ctx, schedulePost(postDeps(ctx), ctx.actor, data)),
  'posts.delete': (ctx, data) => changing(ctx, deletePost(postDeps(ctx), ctx.actor, data)),
  'posts.revisions': (ctx, data) => listPostRevisions(postDeps(ctx), ctx.actor, data),
  'posts.restore': (ctx, data) => changing(ctx, restorePostRevision(postDeps(ctx), ctx.actor, data)),
};
