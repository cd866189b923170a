import type { TaskHandlers } from '../tasks/handlers';
import { type AgentRuntimeDeps, createAgentTaskHandler } from './runtime';
import { createPublishPostHandler } from './system-steps';

/**
 * The task handlers ORA ships: the agent runtime (every task assigned to an agent) and the system
 * steps of the built-in workflows. Handlers given to createSystem (tests, ORA_TASK_HANDLERS) go
 * over these.
 */
export function createBuiltinTaskHandlers(deps: AgentRuntimeDeps): TaskHandlers {
  return {
    byType: {
      publish_post: createPublishPostHandler({
        db: deps.db,
        clock: deps.clock,
        log: deps.log,
        onPostsChanged: deps.services.onPostsChanged,
      }),
    },
    agent: createAgentTaskHandler(deps),
  };
}
