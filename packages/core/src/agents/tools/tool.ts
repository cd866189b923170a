import type { DelegationPlan, Task } from '@ora/contracts';
import { z } from 'zod';
import type { ProviderRegistry } from '../../providers/registry';
import type { Actor, Clock, Db, Logger } from '../../shared/deps';
import type { MediaLimits } from '../../site/media.service';
import type { MediaStore } from '../../site/media-store';
import type { DispatchNudge } from '../../tasks/tasks.service';
import type { AgentMemoryPort } from '../memory-port';

/** What tools may use besides the database: made once per process, none of it per run. */
export interface ToolServices {
  providers: ProviderRegistry;
  media: { store: MediaStore; limits: MediaLimits } | null;
  memory: AgentMemoryPort | null;
  dispatch?: DispatchNudge | undefined;
  /** Told when a tool changed a post (the public page cache of this process is cleared). */
  onPostsChanged?: (() => void) | undefined;
}

/** What a run produced that its task output carries (and the next tasks read). */
export interface RunArtifacts {
  postId?: string;
  mediaIds?: string[];
  drafts?: Array<{ network: string; text: string; length: number; limit: number }>;
  seo?: { postId: string; score: number; failed: string[] };
  plan?: DelegationPlan;
  delegated?: { chainId: string; taskIds: string[] };
}

/** A model call a tool made on the run's behalf (image generation): counted in the run's spend. */
export interface ToolSpend {
  model: string;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  priced: boolean;
  durationMs: number;
}

export interface ToolContext {
  db: Db;
  clock: Clock;
  log: Logger;
  /** The agent, holding exactly the scopes this tool declares: never more. */
  actor: Actor;
  agent: { id: string; slug: string; name: string; maxDelegations: number };
  task: Task;
  runId: string;
  /** Durable id of this call: `<taskId>:<step>:<index>`, the same on every attempt. */
  callId: string;
  signal: AbortSignal;
  services: ToolServices;
  /** Artifacts so far in this run (read-only for tools; they report theirs through `artifacts`). */
  artifacts: Readonly<RunArtifacts>;
  spend(spend: ToolSpend): void;
}

export interface ToolDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  /** Canonical name, as agents list it: `posts.write`. */
  name: string;
  description: string;
  /** Scopes the tool needs; the agent's actor holds these and nothing else while it runs. */
  scopes: string[];
  /** Changes something: its result is recorded under the call's durable id and replayed on retry. */
  sideEffect: boolean;
  input: S;
  /** Null when the tool can run here, else why not (memory or an image provider missing). */
  unavailable?(services: ToolServices): string | null;
  run(ctx: ToolContext, args: z.output<S>): Promise<R>;
  /** What the result adds to the run's artifacts; applied on replay too. */
  artifacts?(result: R, args: z.output<S>): RunArtifacts;
}

export function defineTool<S extends z.ZodType, R>(tool: ToolDefinition<S, R>): ToolDefinition<S, R> {
  return tool;
}

/** Providers allow `[a-zA-Z0-9_-]{1,64}` as tool names: `posts.write` is sent as `posts_write`. */
export function wireName(name: string): string {
  return name.replace(/\./g, '_');
}

const schemaCache = new WeakMap<z.ZodType, Record<string, unknown>>();

/** The tool's arguments as JSON Schema, the way both providers take it (an object schema). */
export function parametersOf(tool: ToolDefinition): Record<string, unknown> {
  let schema = schemaCache.get(tool.input);
  if (!schema) {
    const { $schema: _drop, ...rest } = z.toJSONSchema(tool.input, {
      target: 'draft-7',
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    schema = rest.type === 'object' ? rest : { type: 'object', properties: {}, ...rest };
    schemaCache.set(tool.input, schema);
  }
  return schema;
}

export type ToolRegistry = ReadonlyMap<string, ToolDefinition>;

export function toolRegistry(tools: readonly ToolDefinition[]): ToolRegistry {
  const map = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    const wire = wireName(tool.name);
    if ([...map.values()].some((t) => wireName(t.name) === wire)) throw new Error(`two tools send as ${wire}`);
    map.set(tool.name, tool);
  }
  return map;
}
