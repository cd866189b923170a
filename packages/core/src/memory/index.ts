export { MemoryAccessRecorder } from './access-recorder';
export type {
  BuiltContext,
  ContextMemory,
  ContextMessage,
  ContextRequest,
  OmitReason,
  OmittedItem,
} from './context-builder';
export { buildContext } from './context-builder';
export type { EmbeddingProviderSettings } from './embedders';
export { createEmbedder, OpenAIEmbedder } from './embedders';
export type { MemoryDeps, MemoryServices, WriteOrigin } from './memory.deps';
export type { EmbedReport } from './memory.embedding';
export { embedMemories, sweepEmbeddings } from './memory.embedding';
export type { MemoryMaintenanceReport } from './memory.maintenance';
export { archiveExpiredMemories, enforceMemoryLimits, runMemoryMaintenance } from './memory.maintenance';
export type { MemorySearchParams, MemorySearchResult, ScoredMemoryRow } from './memory.search';
export { efSearchFor, searchMemories, searchMemoryRows } from './memory.search';
export {
  archiveMemory,
  createMemoryServices,
  deleteMemory,
  getMemory,
  listMemories,
  memoryHistory,
  revertMemoryWrites,
  upsertMemory,
} from './memory.service';
export type { MemorySettings } from './memory.settings';
export { DEFAULT_MEMORY_SETTINGS } from './memory.settings';
