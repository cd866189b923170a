import { z } from 'zod';
import { Id, Timestamp } from './common';
import { ConversationStatus, MessageId, MessageRole } from './conversations';
import { MemoryKey, MemoryType } from './memory';

// The desktop <-> server sync protocol (docs/sync.md tells it as a story). Every synced row
// carries a server version from one monotonic sequence; a pull returns what changed after a
// cursor, so clocks never decide what a client has seen. A push carries the client's mutations
// in order, each with the server version it was based on; a mismatch is a conflict, settled by a
// strategy, and the losing side is always kept in a conflict record.

export const SyncEntityType = z.enum(['memory', 'conversation']);
export type SyncEntityType = z.infer<typeof SyncEntityType>;

export const SyncStrategy = z.enum(['last_write_wins', 'server_wins', 'local_wins', 'merge', 'manual']).meta({
  description:
    'last_write_wins (default): the later updatedAt wins, the server on a tie; merge: JSON objects per field, conversations by message id; manual: the server copy stays and the conflict waits for sync.resolve',
});
export type SyncStrategy = z.infer<typeof SyncStrategy>;

/** A position in the sync sequence (int8 as a decimal string); "0" is before everything. */
export const SyncCursor = z
  .string()
  .regex(/^\d{1,19}$/, 'a decimal sync cursor')
  .meta({ description: 'A position in the sync sequence, as returned by sync.pull or sync.push' });
export type SyncCursor = z.infer<typeof SyncCursor>;

export const SyncClientId = z
  .string()
  .min(8)
  .max(100)
  .regex(/^[\w.:-]+$/, 'letters, digits, "_", ".", ":" and "-"')
  .meta({ description: 'Names one client (one desktop install); chosen by the client once and kept' });

const MutationId = z
  .number()
  .int()
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .meta({ description: 'Numbers this client’s mutations 1, 2, 3, ... with no gaps, across both lists' });

const BaseVersion = SyncCursor.nullable().meta({
  description: 'The serverVersion the client last saw of this row; null: the client believes it is new',
});

/** A memory as sync carries it, both ways. */
export const SyncMemoryData = z.object({
  agentId: Id.nullable(),
  type: MemoryType,
  key: MemoryKey,
  content: z.unknown().refine((v) => v !== undefined, 'required: any JSON value'),
  summary: z.string().max(4000).nullable(),
  importance: z.number().min(0).max(1),
  pinned: z.boolean(),
  expiresAt: Timestamp.nullable(),
  updatedAt: Timestamp.meta({ description: 'When the writer changed it (its own clock); last_write_wins compares it' }),
});
export type SyncMemoryData = z.infer<typeof SyncMemoryData>;

export const SyncMessage = z.object({
  id: MessageId,
  role: MessageRole,
  content: z.string().max(500_000),
  metadata: z.record(z.string(), z.unknown()).default({}),
  createdAt: Timestamp,
});
export type SyncMessage = z.infer<typeof SyncMessage>;

/** A conversation's own fields (its messages travel separately and never conflict). */
export const SyncConversationData = z.object({
  agentId: Id.nullable(),
  title: z.string().max(500).nullable(),
  status: ConversationStatus,
  updatedAt: Timestamp,
});
export type SyncConversationData = z.infer<typeof SyncConversationData>;

export const SyncMemoryMutation = z.discriminatedUnion('action', [
  z.object({
    syncId: Id.meta({ description: 'The memory’s id (the client chooses it for a new memory)' }),
    mutationId: MutationId,
    action: z.literal('upsert'),
    baseVersion: BaseVersion,
    data: SyncMemoryData,
  }),
  z.object({
    syncId: Id,
    mutationId: MutationId,
    action: z.literal('delete'),
    baseVersion: BaseVersion,
    data: z.object({ updatedAt: Timestamp }),
  }),
]);
export type SyncMemoryMutation = z.infer<typeof SyncMemoryMutation>;

export const SyncConversationMutation = z.discriminatedUnion('action', [
  z.object({
    syncId: Id.meta({ description: 'The conversation’s id (the client chooses it for a new one)' }),
    mutationId: MutationId,
    action: z.literal('upsert'),
    baseVersion: BaseVersion,
    data: SyncConversationData,
  }),
  z.object({
    syncId: Id,
    mutationId: MutationId,
    action: z.literal('append').meta({
      description:
        'Adds messages (creating the conversation if needed); a message id already there is kept, not doubled',
    }),
    baseVersion: BaseVersion,
    data: z.object({
      agentId: Id.nullable().optional(),
      messages: z.array(SyncMessage).min(1).max(500),
    }),
  }),
  z.object({
    syncId: Id,
    mutationId: MutationId,
    action: z.literal('delete'),
    baseVersion: BaseVersion,
    data: z.object({ updatedAt: Timestamp }),
  }),
]);
export type SyncConversationMutation = z.infer<typeof SyncConversationMutation>;

export const SyncPushInput = z.object({
  clientId: SyncClientId,
  lastSyncAt: Timestamp.optional().meta({ description: 'Accepted for the plan’s clients; the cursor is what counts' }),
  strategy: SyncStrategy.optional().meta({
    description: 'For this push’s conflicts; default: per memory type from config, else last_write_wins',
  }),
  memories: z.array(SyncMemoryMutation).max(1000).default([]),
  conversations: z.array(SyncConversationMutation).max(1000).default([]),
});
export type SyncPushInput = z.input<typeof SyncPushInput>;

/** One side of a conflict as it was when the conflict happened. */
export const SyncVersionSnapshot = z.object({
  content: z.unknown().meta({ description: 'SyncMemoryData or SyncConversationData (+ messages); null: deleted' }),
  updatedAt: Timestamp.nullable(),
  syncId: z.string(),
  serverVersion: SyncCursor.nullable(),
});
export type SyncVersionSnapshot = z.infer<typeof SyncVersionSnapshot>;

export const SyncConflictStatus = z.enum(['pending', 'resolved']);

export const SyncConflict = z
  .object({
    id: Id,
    type: SyncEntityType,
    syncId: z.string(),
    key: z.string().nullable().meta({ description: 'The memory key (null for a conversation)' }),
    clientId: z.string().nullable(),
    mutationId: z.number().int().nullable(),
    strategy: SyncStrategy,
    status: SyncConflictStatus,
    outcome: z
      .enum([
        'server_kept',
        'local_applied',
        'merged',
        'pending',
        'resolved_server',
        'resolved_local',
        'resolved_merged',
      ])
      .meta({ description: 'What the strategy (or sync.resolve) did' }),
    baseVersion: SyncCursor.nullable(),
    localVersion: SyncVersionSnapshot,
    serverVersion: SyncVersionSnapshot,
    mergedVersion: SyncVersionSnapshot.nullable(),
    createdAt: Timestamp,
    resolvedAt: Timestamp.nullable(),
  })
  .meta({ description: 'A push that did not match the server: both versions are kept, whatever won' });
export type SyncConflict = z.infer<typeof SyncConflict>;

export const SyncMutationResult = z.object({
  mutationId: z.number().int(),
  syncId: z.string(),
  status: z.enum(['applied', 'conflict', 'replayed', 'refused']).meta({
    description:
      'replayed: taken by an earlier push (this is the answer it got then, see replayedStatus); refused: out of sync scope (see reason), nothing changed, the mutation id is used up',
  }),
  serverVersion: SyncCursor.nullable().meta({ description: 'The row’s version after this mutation' }),
  conflictId: Id.nullable(),
  reason: z.string().optional().meta({ description: 'Why a mutation was refused' }),
  replayedStatus: z
    .enum(['applied', 'conflict', 'refused'])
    .optional()
    .meta({ description: 'For a replayed mutation: what it got the first time' }),
});
export type SyncMutationResult = z.infer<typeof SyncMutationResult>;

const EntityResults = z.object({
  acked: z.array(z.string()).meta({ description: 'syncIds whose mutations were taken (applied, settled or replayed)' }),
  conflicts: z.array(z.object({ syncId: z.string(), mutationId: z.number().int(), conflict: SyncConflict })),
});

export const SyncPushOutput = z.object({
  results: z.object({ memories: EntityResults, conversations: EntityResults }),
  mutations: z.array(SyncMutationResult).meta({ description: 'One per mutation sent, in mutationId order' }),
  lastMutationId: z
    .number()
    .int()
    .meta({ description: 'The highest mutation id the server has applied for this client' }),
  serverTime: Timestamp,
});
export type SyncPushOutput = z.infer<typeof SyncPushOutput>;

export const SyncPullInput = z.object({
  clientId: SyncClientId.optional().meta({ description: 'Given: the server remembers this client’s cursor' }),
  cursor: SyncCursor.optional().meta({ description: 'The cursor of the previous page; absent or "0": from the start' }),
  since: Timestamp.optional().meta({
    description:
      'Accepted for the plan’s clients when no cursor is given: rows written since then (clock-based; prefer cursor)',
  }),
  limit: z.number().int().min(1).max(1000).default(500).meta({ description: 'Changed rows per page' }),
  types: z.array(SyncEntityType).min(1).optional(),
});
export type SyncPullInput = z.input<typeof SyncPullInput>;

export const SyncPulledMemory = SyncMemoryData.extend({
  id: Id,
  serverVersion: SyncCursor,
  version: z.number().int(),
  createdAt: Timestamp,
});
export type SyncPulledMemory = z.infer<typeof SyncPulledMemory>;

export const SyncPulledConversation = SyncConversationData.extend({
  id: Id,
  serverVersion: SyncCursor,
  createdAt: Timestamp,
  messages: z.array(SyncMessage.extend({ seq: SyncCursor })).meta({
    description: 'The messages added after the request’s cursor, oldest first',
  }),
});
export type SyncPulledConversation = z.infer<typeof SyncPulledConversation>;

export const SyncTombstone = z.object({
  type: SyncEntityType,
  id: Id,
  serverVersion: SyncCursor,
  deletedAt: Timestamp,
});
export type SyncTombstone = z.infer<typeof SyncTombstone>;

export const SyncPullOutput = z.object({
  memories: z.array(SyncPulledMemory),
  conversations: z.array(SyncPulledConversation),
  tombstones: z.array(SyncTombstone),
  cursor: SyncCursor.meta({ description: 'Pass back for the next page; everything up to it has been returned' }),
  hasMore: z.boolean(),
  serverTime: Timestamp,
});
export type SyncPullOutput = z.infer<typeof SyncPullOutput>;

export const SyncStatusInput = z.object({
  clientId: SyncClientId.optional().meta({ description: 'Given: also this client’s own state' }),
});
export const SyncClientState = z.object({
  clientId: z.string(),
  agentId: Id.nullable(),
  lastMutationId: z.number().int(),
  lastPullCursor: SyncCursor,
  lastPushAt: Timestamp.nullable(),
  lastPullAt: Timestamp.nullable(),
  pendingConflicts: z.number().int(),
});
export type SyncClientState = z.infer<typeof SyncClientState>;
export const SyncStatusOutput = z.object({
  serverVersion: SyncCursor.meta({ description: 'The newest position a pull can reach now' }),
  lastSyncAt: Timestamp.nullable().meta({ description: 'The asking client’s last push or pull' }),
  client: SyncClientState.nullable(),
  clients: z.array(SyncClientState),
  pendingConflicts: z
    .array(SyncConflict)
    .meta({ description: 'Manual conflicts waiting for sync.resolve (newest 100)' }),
  counts: z.object({
    memories: z.number().int(),
    conversations: z.number().int(),
    tombstones: z.number().int(),
    conflictsPending: z.number().int(),
    conflictsResolved: z.number().int(),
  }),
  serverTime: Timestamp,
});
export type SyncStatusOutput = z.infer<typeof SyncStatusOutput>;

export const SyncResolveInput = z.object({
  conflictId: Id,
  keep: z.enum(['server', 'local', 'merged']).meta({ description: 'merged: the value given in `merged`' }),
  merged: z
    .unknown()
    .optional()
    .meta({ description: 'With keep "merged": the memory’s SyncMemoryData (or conversation data) to store' }),
});
export const SyncResolveOutput = z.object({
  conflict: SyncConflict,
  serverVersion: SyncCursor.nullable().meta({ description: 'The row’s version after resolving' }),
});

export const SyncConflictsListInput = z.object({
  status: SyncConflictStatus.optional(),
  clientId: z.string().optional(),
  cursor: z.string().max(500).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export const SyncConflictsListOutput = z.object({
  items: z.array(SyncConflict),
  nextCursor: z.string().nullable(),
});

/**
 * A client's replica as a file, for `ora sync check` (what `InMemorySyncStore.snapshot()` of
 * @ora/client writes; the desktop can write the same from SQLite). Rows the client keeps only
 * locally (refused by the server) are listed with `localOnly: true` and are not compared.
 */
export const SyncSnapshot = z.object({
  format: z.literal('ora-sync-snapshot/1'),
  clientId: SyncClientId,
  cursor: SyncCursor,
  takenAt: Timestamp,
  pendingMutations: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'Mutations not acknowledged yet (0 after a full sync)' }),
  memories: z.array(
    SyncMemoryData.extend({ id: Id, serverVersion: SyncCursor.nullable(), localOnly: z.boolean().default(false) }),
  ),
  conversations: z.array(
    SyncConversationData.extend({
      id: Id,
      serverVersion: SyncCursor.nullable(),
      localOnly: z.boolean().default(false),
      messages: z.array(SyncMessage),
    }),
  ),
});
export type SyncSnapshot = z.input<typeof SyncSnapshot>;
