import { action } from './action';
import {
  Memory,
  MemoryArchiveInput,
  MemoryDeleteInput,
  MemoryDeleteOutput,
  MemoryGetInput,
  MemoryHistoryInput,
  MemoryHistoryOutput,
  MemoryListInput,
  MemoryListOutput,
  MemoryRevertInput,
  MemoryRevertOutput,
  MemorySearchInput,
  MemorySearchOutput,
  MemoryUpsertInput,
  MemoryUpsertOutput,
} from './memory';

/** The `memory.*` actions. A key bound to an agent reaches only that agent's memories. */
export const memoryActions = {
  'memory.upsert': action({
    summary: 'Write the memory of an agent, type and key: creates it, or updates it as a new version',
    scope: 'memory:write',
    mutates: true,
    input: MemoryUpsertInput,
    output: MemoryUpsertOutput,
  }),
  'memory.get': action({
    summary: 'One memory, by id (in any state) or by agent, type and key (live ones only)',
    scope: 'memory:read',
    mutates: false,
    input: MemoryGetInput,
    output: Memory,
  }),
  'memory.list': action({
    summary: 'List memories, most recently written first, by agent, type, importance, source, archive or expiry',
    scope: 'memory:read',
    mutates: false,
    input: MemoryListInput,
    output: MemoryListOutput,
  }),
  'memory.search': action({
    summary:
      'Rank memories for a query by relevance (full-text, plus vectors where pgvector is installed), importance and recency',
    scope: 'memory:read',
    mutates: false,
    input: MemorySearchInput,
    output: MemorySearchOutput,
  }),
  'memory.archive': action({
    summary: 'Archive a memory (hidden from search and context, kept with its history), or bring it back',
    scope: 'memory:write',
    mutates: true,
    input: MemoryArchiveInput,
    output: Memory,
  }),
  'memory.delete': action({
    summary: 'Delete a memory (a tombstone stays for sync; its history is kept)',
    scope: 'memory:write',
    mutates: true,
    input: MemoryDeleteInput,
    output: MemoryDeleteOutput,
  }),
  'memory.history': action({
    summary: 'Every version of a memory, newest first, with the key, run or task that wrote it',
    scope: 'memory:read',
    mutates: false,
    input: MemoryHistoryInput,
    output: MemoryHistoryOutput,
  }),
  'memory.revert': action({
    summary: 'Undo every memory write of one run or task (each undo is a new version)',
    scope: 'memory:write',
    mutates: true,
    input: MemoryRevertInput,
    output: MemoryRevertOutput,
  }),
};
