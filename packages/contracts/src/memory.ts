import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';

/** The plan's eight kinds of memory. */
export const MemoryType = z.enum([
  'fact',
  'preference',
  'context',
  'skill',
  'instruction',
  'reflection',
  'task',
  'entity',
]);
export type MemoryType = z.infer<typeof MemoryType>;

export const MemorySource = z.enum(['server', 'desktop', 'sync']);
export type MemorySource = z.infer<typeof MemorySource>;

export const MemoryKey = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .meta({ description: 'Names the memory within its agent and type, e.g. "operator.timezone"' });

const AgentRef = Id.nullable().meta({ description: 'The owning agent; null: ORA’s own memory' });

export const MemoryWriter = z.object({
  keyId: Id.nullable(),
  runId: Id.nullable(),
  taskId: Id.nullable(),
});
export type MemoryWriter = z.infer<typeof MemoryWriter>;

export const Memory = z
  .object({
    id: Id,
    agentId: AgentRef,
    type: MemoryType,
    key: MemoryKey,
    content: z.unknown().meta({ description: 'Any JSON value (decrypted for the reader when stored encrypted)' }),
    summary: z.string().nullable(),
    importance: z.number().min(0).max(1),
    pinned: z.boolean().meta({ description: 'Never evicted by the per-agent limit' }),
    encrypted: z.boolean().meta({ description: 'Stored encrypted at rest (AES-256-GCM); not embedded or indexed' }),
    sync: z.boolean().meta({ description: 'false: never leaves the server through sync' }),
    source: MemorySource,
    accessCount: z.number().int(),
    lastAccessedAt: Timestamp.nullable(),
    expiresAt: Timestamp.nullable(),
    expired: z.boolean().meta({ description: 'Past expiresAt: hidden from search, lists and context' }),
    archived: z.boolean(),
    version: z.number().int().meta({ description: 'Bumped by every write; memory.history keeps each' }),
    serverVersion: z.string().meta({ description: 'Position in the sync sequence of the last write' }),
    embedding: z.object({
      model: z.string().nullable(),
      embeddedAt: Timestamp.nullable(),
      pending: z.boolean().meta({ description: 'The current content is not embedded yet (it is, shortly)' }),
    }),
    createdBy: MemoryWriter,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ description: 'One memory: unique per agent, type and key' });
export type Memory = z.infer<typeof Memory>;

export const MemoryChange = z.enum(['insert', 'update', 'archive', 'delete', 'revert']);
export type MemoryChange = z.infer<typeof MemoryChange>;

export const MemoryVersion = z
  .object({
    memoryId: Id,
    version: z.number().int(),
    change: MemoryChange,
    type: MemoryType,
    key: z.string(),
    content: z.unknown(),
    summary: z.string().nullable(),
    importance: z.number(),
    pinned: z.boolean(),
    expiresAt: Timestamp.nullable(),
    archived: z.boolean(),
    deleted: z.boolean(),
    source: z.string(),
    writtenBy: MemoryWriter,
    createdAt: Timestamp,
  })
  .meta({ description: 'The state a write left a memory in, and who made it' });
export type MemoryVersion = z.infer<typeof MemoryVersion>;

/** How one search hit scored: each part in [0, 1], and the weighted total it was ranked by. */
export const ScoreBreakdown = z.object({
  total: z.number(),
  relevance: z.number().meta({ description: 'Text and vector relevance combined' }),
  text: z.number().nullable().meta({ description: 'Full-text rank, relative to the best text match' }),
  vector: z.number().nullable().meta({ description: 'Cosine similarity to the query embedding' }),
  importance: z.number(),
  recency: z.number().meta({ description: 'Halves every half-life since the memory was last used or written' }),
  frequency: z.number().meta({ description: 'Grows with access count, saturating' }),
});
export type ScoreBreakdown = z.infer<typeof ScoreBreakdown>;

export const ScoreWeights = z.object({
  relevance: z.number(),
  importance: z.number(),
  recency: z.number(),
  frequency: z.number(),
});
export type ScoreWeights = z.infer<typeof ScoreWeights>;

export const SearchMode = z.enum(['hybrid', 'fulltext', 'vector']);
export type SearchMode = z.infer<typeof SearchMode>;

const Importance = z.number().min(0).max(1);
const RunRefs = {
  runId: Id.optional().meta({ description: 'The agent run making this write (memory.revert undoes a run)' }),
  taskId: Id.optional().meta({ description: 'The task making this write' }),
};

export const MemoryUpsertInput = z
  .object({
    agentId: AgentRef.optional().meta({ description: 'Default: the key’s agent, else null (ORA’s own)' }),
    type: MemoryType,
    key: MemoryKey,
    content: z.unknown().refine((v) => v !== undefined, 'required: any JSON value'),
    summary: z.string().trim().max(4000).nullable().optional(),
    importance: Importance.optional().meta({ description: 'Default 0.5 for a new memory; kept when absent' }),
    pinned: z.boolean().optional(),
    expiresAt: Timestamp.nullable().optional().meta({ description: 'null clears; absent keeps' }),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(10 * 365 * 24 * 3600)
      .optional()
      .meta({ description: 'Expires this many seconds from now (instead of expiresAt)' }),
    sync: z
      .boolean()
      .optional()
      .meta({ description: 'false keeps it on the server; types in ORA_MEMORY_NOSYNC_TYPES never sync' }),
    source: z.enum(['server', 'desktop']).optional(),
    expectedVersion: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Refuse (CONFLICT) unless the memory is at this version (0: must not exist)' }),
    ...RunRefs,
  })
  .refine((v) => !(v.expiresAt !== undefined && v.ttlSeconds !== undefined), 'give expiresAt or ttlSeconds, not both');
export const MemoryUpsertOutput = z.object({
  memory: Memory,
  created: z.boolean(),
  changed: z.boolean().meta({ description: 'false: the memory already held exactly this; no version was added' }),
});

export const MemoryGetInput = z.union([
  z.object({ id: Id }),
  z.object({ agentId: AgentRef.optional(), type: MemoryType, key: MemoryKey }),
]);

export const MemoryListInput = PageInput.extend({
  agentId: AgentRef.optional().meta({ description: 'Absent: every agent the key may see' }),
  type: z.union([MemoryType, z.array(MemoryType).min(1)]).optional(),
  minImportance: Importance.optional(),
  maxImportance: Importance.optional(),
  source: MemorySource.optional(),
  pinned: z.boolean().optional(),
  archived: z.boolean().default(false).meta({ description: 'true: only archived memories' }),
  expired: z.boolean().default(false).meta({ description: 'true: only expired ones (not archived yet)' }),
  keyPrefix: z.string().max(300).optional(),
});
export const MemoryListOutput = page(Memory);

export const MemorySearchInput = z.object({
  query: z.string().trim().min(1).max(2000),
  agentId: AgentRef.optional(),
  types: z.array(MemoryType).min(1).optional(),
  minImportance: Importance.optional(),
  limit: z.number().int().min(1).max(100).default(10),
  mode: z
    .enum(['auto', 'hybrid', 'fulltext', 'vector'])
    .default('auto')
    .meta({ description: 'auto: hybrid where pgvector is installed, else full-text' }),
  includeArchived: z.boolean().default(false),
});
export const MemorySearchHit = z.object({ memory: Memory, score: ScoreBreakdown });
export type MemorySearchHit = z.infer<typeof MemorySearchHit>;
export const MemorySearchOutput = z.object({
  mode: SearchMode.meta({ description: 'How the hits were found' }),
  notice: z.string().nullable().meta({ description: 'Why the mode differs from the one asked for, if it does' }),
  embeddingModel: z.string().nullable(),
  weights: ScoreWeights,
  hits: z.array(MemorySearchHit),
});
export type MemorySearchOutput = z.infer<typeof MemorySearchOutput>;

export const MemoryArchiveInput = z.object({
  id: Id,
  archived: z.boolean().default(true).meta({ description: 'false brings an archived memory back' }),
  ...RunRefs,
});
export const MemoryDeleteInput = z.object({ id: Id, ...RunRefs });
export const MemoryDeleteOutput = z.object({ id: Id, deleted: z.literal(true), version: z.number().int() });

export const MemoryHistoryInput = PageInput.extend({ id: Id });
export const MemoryHistoryOutput = page(MemoryVersion);

export const MemoryRevertInput = z
  .object({
    runId: Id.optional(),
    taskId: Id.optional(),
    force: z
      .boolean()
      .default(false)
      .meta({ description: 'Also revert memories someone else changed after the run (their change is overwritten)' }),
  })
  .refine((v) => (v.runId === undefined) !== (v.taskId === undefined), 'give runId or taskId');
export const MemoryRevertOutput = z.object({
  reverted: z.array(
    z.object({
      memoryId: Id,
      action: z
        .enum(['restored', 'archived'])
        .meta({ description: 'archived: the run created it; restored: back to the version before the run' }),
      toVersion: z.number().int().meta({ description: 'The version restored' }),
      newVersion: z.number().int(),
    }),
  ),
  skipped: z.array(z.object({ memoryId: Id, reason: z.string() })),
});
