import type { ActionData, ActionOutput } from '@ora/contracts';
import { buildContext } from '../memory/context-builder';
import type { MemoryDeps } from '../memory/memory.deps';
import { searchMemories } from '../memory/memory.search';
import { upsertMemory } from '../memory/memory.service';
import type { Actor } from '../shared/deps';

/**
 * What the agent runtime needs from memory: search, write, and (optionally) a context block for
 * the prompt. The memory domain provides it (`memory.service`); the runtime depends on this
 * interface only, so it runs without memory too (its memory tools are then unavailable).
 */
export interface AgentMemoryPort {
  search(actor: Actor, input: ActionData<'memory.search'>): Promise<ActionOutput<'memory.search'>>;
  upsert(
    actor: Actor,
    input: ActionData<'memory.upsert'>,
    origin: { runId: string; taskId: string },
  ): Promise<ActionOutput<'memory.upsert'>>;
  /** Relevant memories (and recent conversation) for a query, packed into about `maxTokens`, as text. */
  context?(actor: Actor, input: { agentId: string; query: string; maxTokens: number }): Promise<string | null>;
}

/** The port over ORA's memory domain: memory.search, memory.upsert and the context builder. */
export function createAgentMemoryPort(deps: MemoryDeps): AgentMemoryPort {
  return {
    search: (actor, input) => searchMemories(deps, actor, input),
    upsert: (actor, input, origin) => upsertMemory(deps, actor, input, origin),
    async context(_actor, input) {
      const built = await buildContext(deps, {
        agentId: input.agentId,
        query: input.query,
        tokenBudget: input.maxTokens,
      });
      return built.memoryText.trim() || null;
    },
  };
}
