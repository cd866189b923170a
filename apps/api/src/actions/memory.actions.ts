import {
  appendMessages,
  archiveConversation,
  archiveMemory,
  createConversation,
  deleteMemory,
  getConversation,
  getMemory,
  listConversations,
  listMemories,
  memoryHistory,
  revertMemoryWrites,
  searchMemories,
  summarizeConversation,
  upsertMemory,
} from '@ora/core';
import type { ActionHandlers } from './context';

export const memoryActions: ActionHandlers<
  | 'memory.upsert'
  | 'memory.get'
  | 'memory.list'
  | 'memory.search'
  | 'memory.archive'
  | 'memory.delete'
  | 'memory.history'
  | 'memory.revert'
  | 'conversations.create'
  | 'conversations.get'
  | 'conversations.list'
  | 'conversations.append'
  | 'conversations.archive'
  | 'conversations.summarize'
> = {
  'memory.upsert': (ctx, data) => upsertMemory(ctx.system.memory.deps, ctx.actor, data),
  'memory.get': (ctx, data) => getMemory(ctx.system.memory.deps, ctx.actor, data),
  'memory.list': (ctx, data) => listMemories(ctx.system.memory.deps, ctx.actor, data),
  'memory.search': (ctx, data) => searchMemories(ctx.system.memory.deps, ctx.actor, data),
  'memory.archive': (ctx, data) => archiveMemory(ctx.system.memory.deps, ctx.actor, data),
  'memory.delete': (ctx, data) => deleteMemory(ctx.system.memory.deps, ctx.actor, data),
  'memory.history': (ctx, data) => memoryHistory(ctx.system.memory.deps, ctx.actor, data),
  'memory.revert': (ctx, data) => revertMemoryWrites(ctx.system.memory.deps, ctx.actor, data),
  'conversations.create': (ctx, data) => createConversation(ctx.system.memory.deps, ctx.actor, data),
  'conversations.get': (ctx, data) => getConversation(ctx.system.memory.deps, ctx.actor, data),
  'conversations.list': (ctx, data) => listConversations(ctx.system.memory.deps, ctx.actor, data),
  'conversations.append': (ctx, data) => appendMessages(ctx.system.memory.deps, ctx.actor, data),
  'conversations.archive': (ctx, data) => archiveConversation(ctx.system.memory.deps, ctx.actor, data),
  'conversations.summarize': (ctx, data) => summarizeConversation(ctx.system.memory.deps, ctx.actor, data),
};
