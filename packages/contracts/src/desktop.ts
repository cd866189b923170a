import { z } from 'zod';
import { DelegationPlan } from './agents';
import { Id, Timestamp } from './common';
import { ConversationStatus, MessageRole } from './conversations';
import { MemoryKey, MemoryType, ScoreBreakdown } from './memory';
import { SyncConflict } from './sync';

// The desktop's bridge: what the ORA desktop's UI (the renderer) may ask of its core (the local
// store, the sync engine, the command router). One typed map of calls, each with its input schema,
// served by the Electron main process over IPC and by web mode over HTTP with the same handlers.

/** A memory as the desktop holds it. */
export const LocalMemory = z.object({
  id: Id,
  agentId: Id.nullable(),
  type: MemoryType,
  key: z.string(),
  content: z.unknown(),
  summary: z.string().nullable(),
  importance: z.number(),
  pinned: z.boolean(),
  expiresAt: Timestamp.nullable(),
  updatedAt: Timestamp,
  createdAt: Timestamp,
  serverVersion: z.string().nullable().meta({ description: 'null: never synced' }),
  pending: z.boolean().meta({ description: 'A local change waits to be pushed' }),
  accessCount: z.number().int(),
});
export type LocalMemory = z.infer<typeof LocalMemory>;

export const LocalConversation = z.object({
  id: Id,
  agentId: Id.nullable(),
  title: z.string().nullable(),
  status: ConversationStatus,
  updatedAt: Timestamp,
  createdAt: Timestamp,
  serverVersion: z.string().nullable(),
  messageCount: z.number().int(),
});
export type LocalConversation = z.infer<typeof LocalConversation>;

export const LocalMessage = z.object({
  id: z.string(),
  conversationId: Id,
  role: MessageRole,
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: Timestamp,
  synced: z.boolean(),
});
export type LocalMessage = z.infer<typeof LocalMessage>;

/** A task the desktop follows (made by its commands, or seen on the event stream). */
export const TrackedTask = z.object({
  id: Id,
  chainId: Id.nullable(),
  title: z.string(),
  taskType: z.string(),
  agentSlug: z.string().nullable(),
  status: z.string(),
  statusMessage: z.string().nullable(),
  output: z.unknown().nullable(),
  errorMessage: z.string().nullable(),
  cost: z.number().nullable(),
  tokensUsed: z.number().int().nullable(),
  conversationId: Id.nullable(),
  updatedAt: Timestamp,
});
export type TrackedTask = z.infer<typeof TrackedTask>;

/** A command that needs the server, kept until the server has answered it. */
export const PendingCommand = z.object({
  id: Id.meta({ description: 'Also the Idempotency-Key it is sent with' }),
  conversationId: Id.nullable(),
  action: z.string(),
  data: z.unknown(),
  status: z.enum(['pending', 'done', 'failed']),
  attempts: z.number().int(),
  error: z.string().nullable(),
  createdAt: Timestamp,
});
export type PendingCommand = z.infer<typeof PendingCommand>;

export const DesktopSyncState = z.enum(['offline', 'idle', 'syncing', 'error', 'unconfigured']);
export type DesktopSyncState = z.infer<typeof DesktopSyncState>;

export const DesktopStatus = z.object({
  configured: z.boolean(),
  serverUrl: z.string().nullable(),
  online: z.boolean(),
  sync: DesktopSyncState,
  lastSyncAt: Timestamp.nullable(),
  lastError: z.string().nullable(),
  nextRetryAt: Timestamp.nullable(),
  pendingMutations: z.number().int(),
  pendingCommands: z.number().int(),
  conflicts: z.number().int().meta({ description: 'Conflicts waiting in the inbox' }),
  memories: z.number().int(),
  clientId: z.string(),
});
export type DesktopStatus = z.infer<typeof DesktopStatus>;

/** A plan the planner proposed, waiting for the operator. */
export const ProposedPlan = z.object({
  id: Id,
  conversationId: Id,
  request: z.string(),
  plannerTaskId: Id.nullable(),
  plan: DelegationPlan,
  preview: z
    .array(
      z.object({ ref: z.string(), agent: z.string().nullable(), title: z.string(), dependsOn: z.array(z.string()) }),
    )
    .meta({ description: 'The steps the plan would create (a workflow’s, from its definition)' }),
  summary: z.string().nullable(),
  estimatedCost: z
    .number()
    .nullable()
    .meta({ description: 'What planning cost; the run’s budget estimate when known' }),
  status: z.enum(['proposed', 'approved', 'rejected']),
});
export type ProposedPlan = z.infer<typeof ProposedPlan>;

/** What the core pushes to the UI. */
export const DesktopEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: DesktopStatus }),
  z.object({ type: z.literal('message'), message: LocalMessage }),
  z.object({ type: z.literal('task'), task: TrackedTask }),
  z.object({ type: z.literal('memories') }),
  z.object({ type: z.literal('conflicts'), pending: z.number().int() }),
  z.object({
    type: z.literal('notification'),
    level: z.enum(['info', 'success', 'error', 'attention']),
    title: z.string(),
    body: z.string(),
    taskId: Id.nullable(),
  }),
]);
export type DesktopEvent = z.infer<typeof DesktopEvent>;

const Empty = z.object({}).default({});

/** Every call the UI can make, with its input schema (validated by the core) and its result. */
export const desktopCalls = {
  'app.status': { input: Empty, output: DesktopStatus },
  'app.configure': {
    input: z.object({
      serverUrl: z.url({ protocol: /^https?$/ }).max(2000),
      apiKey: z.string().min(10).max(200),
    }),
    output: DesktopStatus,
  },
  'memory.search': {
    input: z.object({
      query: z.string().trim().min(1).max(2000),
      limit: z.number().int().min(1).max(100).default(10),
      types: z.array(MemoryType).min(1).optional(),
    }),
    output: z.object({ hits: z.array(z.object({ memory: LocalMemory, score: ScoreBreakdown })), tookMs: z.number() }),
  },
  'memory.list': {
    input: z.object({ limit: z.number().int().min(1).max(500).default(100), type: MemoryType.optional() }),
    output: z.object({ items: z.array(LocalMemory) }),
  },
  'memory.upsert': {
    input: z.object({
      id: Id.optional(),
      type: MemoryType.default('fact'),
      key: MemoryKey,
      content: z.unknown().refine((v) => v !== undefined, 'required: any JSON value'),
      summary: z.string().max(4000).nullable().optional(),
      importance: z.number().min(0).max(1).optional(),
      pinned: z.boolean().optional(),
    }),
    output: LocalMemory,
  },
  'memory.delete': { input: z.object({ id: Id }), output: z.object({ deleted: z.boolean() }) },
  'conversations.list': { input: Empty, output: z.object({ items: z.array(LocalConversation) }) },
  'conversations.messages': {
    input: z.object({ conversationId: Id, limit: z.number().int().min(1).max(1000).default(200) }),
    output: z.object({ items: z.array(LocalMessage) }),
  },
  'chat.send': {
    input: z.object({ conversationId: Id.optional(), text: z.string().trim().min(1).max(20_000) }),
    output: z.object({ conversationId: Id, messages: z.array(LocalMessage) }),
  },
  'plans.list': { input: Empty, output: z.object({ items: z.array(ProposedPlan) }) },
  'plans.decide': {
    input: z.object({ planId: Id, approve: z.boolean() }),
    output: z.object({ plan: ProposedPlan, messages: z.array(LocalMessage) }),
  },
  'tasks.list': { input: Empty, output: z.object({ items: z.array(TrackedTask) }) },
  'commands.list': { input: Empty, output: z.object({ items: z.array(PendingCommand) }) },
  'conflicts.list': {
    input: z.object({ status: z.enum(['pending', 'resolved']).optional() }).default({}),
    output: z.object({ items: z.array(SyncConflict) }),
  },
  'conflicts.resolve': {
    input: z.object({
      conflictId: Id,
      keep: z.enum(['mine', 'server', 'merge', 'edit']).meta({
        description: 'merge: the rules’ merge of both; edit: the value given in `value`',
      }),
      value: z.unknown().optional(),
    }),
    output: SyncConflict,
  },
  'sync.now': { input: Empty, output: DesktopStatus },
} as const;

export type DesktopCallName = keyof typeof desktopCalls;
export type DesktopCallInput<N extends DesktopCallName> = z.input<(typeof desktopCalls)[N]['input']>;
export type DesktopCallData<N extends DesktopCallName> = z.output<(typeof desktopCalls)[N]['input']>;
export type DesktopCallOutput<N extends DesktopCallName> = z.output<(typeof desktopCalls)[N]['output']>;
export const desktopCallNames = Object.keys(desktopCalls) as DesktopCallName[];

/**
 * The one object the UI sees: `window.ora` in Electron (exposed by the preload with
 * contextBridge), an HTTP client of the web-mode server in a browser.
 */
export interface DesktopBridge {
  call<N extends DesktopCallName>(name: N, input?: DesktopCallInput<N>): Promise<DesktopCallOutput<N>>;
  /** Events from the core (status, messages, tasks, notifications); returns the unsubscribe. */
  onEvent(listener: (event: DesktopEvent) => void): () => void;
}

/** The core's side: one handler per call, given validated input. */
export type DesktopHandlers = {
  [N in DesktopCallName]: (input: DesktopCallData<N>) => Promise<DesktopCallOutput<N>>;
};

export const DesktopCallEnvelope = z.object({ call: z.string(), input: z.unknown().optional() });
