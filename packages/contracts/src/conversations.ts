import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';

export const MessageRole = z.enum(['user', 'assistant', 'system', 'tool']);
export type MessageRole = z.infer<typeof MessageRole>;

export const ConversationStatus = z.enum(['active', 'completed', 'archived', 'error']);
export type ConversationStatus = z.infer<typeof ConversationStatus>;

export const MessageId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:-]+$/, 'letters, digits, "_", ".", ":" and "-"')
  .meta({ description: 'Unique within its conversation; the client may choose it (a repeat is not appended twice)' });

export const Conversation = z
  .object({
    id: Id,
    agentId: Id.nullable(),
    title: z.string().nullable(),
    summary: z.string().nullable().meta({ description: 'Summary of the messages up to summaryThroughSeq' }),
    summaryThroughSeq: z.string().nullable(),
    status: ConversationStatus,
    messageCount: z.number().int(),
    tokenCount: z.number().int().meta({ description: 'Tokens of all messages (o200k_base tokenizer)' }),
    version: z.number().int(),
    serverVersion: z.string(),
    source: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ description: 'A conversation thread; its messages are kept one by one' });
export type Conversation = z.infer<typeof Conversation>;

export const ConversationMessage = z.object({
  id: MessageId,
  conversationId: Id,
  seq: z.string().meta({ description: 'Orders the conversation (from the sync sequence)' }),
  role: MessageRole,
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  tokenCount: z.number().int(),
  createdAt: Timestamp,
});
export type ConversationMessage = z.infer<typeof ConversationMessage>;

export const MessageInput = z.object({
  id: MessageId.optional().meta({ description: 'Default: a new UUID' }),
  role: MessageRole,
  content: z.string().max(500_000),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type MessageInput = z.infer<typeof MessageInput>;

const Messages = z.array(MessageInput).max(500);

export const ConversationsCreateInput = z.object({
  id: Id.optional().meta({ description: 'A client-chosen id (the desktop names its threads)' }),
  agentId: Id.nullable().optional().meta({ description: 'Default: the key’s agent, else null (ORA’s own)' }),
  title: z.string().trim().max(500).nullable().optional(),
  messages: Messages.optional(),
  source: z.enum(['server', 'desktop']).optional(),
});
export const ConversationWithMessages = z.object({
  conversation: Conversation,
  messages: z.array(ConversationMessage).meta({ description: 'Oldest first' }),
  hasMore: z.boolean().meta({ description: 'Older messages exist before the first one here' }),
});

export const ConversationsGetInput = z.object({
  id: Id,
  messagesLimit: z.number().int().min(0).max(1000).default(100).meta({ description: 'The latest this many' }),
  beforeSeq: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional()
    .meta({ description: 'Only messages before this seq (to page back)' }),
});

export const ConversationsListInput = PageInput.extend({
  agentId: Id.nullable().optional(),
  status: ConversationStatus.optional(),
});
export const ConversationsListOutput = page(Conversation);

export const ConversationsAppendInput = z.object({
  id: Id,
  messages: Messages.min(1),
  expectedVersion: z.number().int().min(1).optional(),
});
export const ConversationsAppendOutput = z.object({
  conversation: Conversation,
  appended: z.array(ConversationMessage),
  duplicates: z.array(MessageId).meta({ description: 'Ids already in the conversation: not appended again' }),
});

export const ConversationsArchiveInput = z.object({ id: Id });

export const ConversationsSummarizeInput = z.object({
  id: Id,
  summary: z
    .string()
    .trim()
    .min(1)
    .max(50_000)
    .optional()
    .meta({ description: 'A summary written by the caller; absent: ORA writes an extractive one' }),
  keepLast: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(20)
    .meta({ description: 'The latest this many messages stay out of the summary (they are read as they are)' }),
});
export const ConversationsSummarizeOutput = z.object({
  conversation: Conversation,
  summarizedMessages: z.number().int().meta({ description: 'Messages the summary covers' }),
  summaryTokens: z.number().int(),
});
