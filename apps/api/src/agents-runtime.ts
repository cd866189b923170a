import {
  createAgentMemoryPort,
  createBuiltinTaskHandlers,
  type DispatchNudge,
  type Logger,
  ProviderRegistry,
  systemClock,
  type TaskHandlers,
  type ToolServices,
} from '@ora/core';
import type { OraDatabase } from '@ora/db';
import type { Config } from './env';
import type { MemoryRuntime } from './memory';
import type { SiteRuntime } from './site';

/** The agent runtime of one process: the providers, what tools use, and the built-in task handlers. */
export interface AgentsRuntime {
  providers: ProviderRegistry;
  services: ToolServices;
  /** The agent runtime and the built-in system steps (publish_post). */
  handlers: TaskHandlers;
  /** Where delegated tasks are announced once the task runtime exists. */
  bindDispatch(dispatch: DispatchNudge): void;
}

export function createAgentsRuntime(
  config: Config,
  parts: { database: OraDatabase; log: Logger; site: SiteRuntime; memory: MemoryRuntime },
): AgentsRuntime {
  const providers = new ProviderRegistry({ ...config.providers, ...config.models });
  let dispatch: DispatchNudge | null = null;
  const services: ToolServices = {
    providers,
    media: { store: parts.site.media, limits: parts.site.mediaLimits },
    memory: createAgentMemoryPort(parts.memory.deps),
    dispatch: { nudge: () => dispatch?.nudge() },
    onPostsChanged: () => parts.site.pages.clear(),
  };
  if (providers.configured().length === 0) {
    parts.log.warn(
      'no LLM provider is configured: agent tasks will fail until OPENAI_API_KEY, OPENAI_BASE_URL or ANTHROPIC_API_KEY is set (system steps still run)',
    );
  }
  return {
    providers,
    services,
    handlers: createBuiltinTaskHandlers({ db: parts.database.db, clock: systemClock, log: parts.log, services }),
    bindDispatch(nudge) {
      dispatch = nudge;
    },
  };
}
