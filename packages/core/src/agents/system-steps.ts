import { isOraError } from '@ora/contracts';
import type { Actor, Clock, Db, Logger } from '../shared/deps';
import { publishPost } from '../site/posts.service';
import { getSettings, postUrl } from '../site/settings.service';
import { NonRetryableTaskError, type TaskHandler } from '../tasks/handlers';
import { postOf } from './runtime';

export interface SystemStepDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** Told after a post went live (the page cache of this process is cleared). */
  onPostsChanged?: (() => void) | undefined;
}

/**
 * `publish_post`, the last step of the publish_post workflow: publishes the post the chain made
 * (named in the input, linked to the task, or handed on by a task it depends on, else the chain's
 * latest post) through the site's posts service, which emits post.published. No model involved,
 * so it runs with no provider configured. Publishing a published post changes nothing.
 */
export function createPublishPostHandler(deps: SystemStepDeps): TaskHandler {
  return async ({ task, dependencies }) => {
    let postId = postOf(task, dependencies);
    if (!postId && task.chainId) {
      const made = await deps.db
        .selectFrom('agent_tasks')
        .select('related_post_id')
        .where('chain_id', '=', task.chainId)
        .where('related_post_id', 'is not', null)
        .orderBy('completed_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      postId = made?.related_post_id ?? null;
    }
    if (!postId) {
      throw new NonRetryableTaskError(
        'publish_post found no post to publish: give input.postId, or depend on a task whose output has a postId',
      );
    }
    const actor: Actor = {
      keyId: null,
      scopes: ['posts:write'],
      agentId: null,
      ip: null,
      requestId: `task:${task.id}`,
    };
    try {
      const post = await publishPost(deps, actor, { id: postId });
      deps.onPostsChanged?.();
      const { settings } = await getSettings(deps);
      return {
        status: 'success',
        output: { postId: post.id, slug: post.slug, url: postUrl(settings, post.slug), publishedAt: post.publishedAt },
        relatedPostId: post.id,
      };
    } catch (error) {
      if (isOraError(error) && error.code === 'NOT_FOUND') throw new NonRetryableTaskError(error.message);
      throw error;
    }
  };
}
