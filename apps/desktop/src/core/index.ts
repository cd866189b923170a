/**
 * The desktop's core: plain Node, no electron. The Electron utility process (src/main/core-host.ts),
 * web mode (src/web) and the tests all run it through {@link DesktopCore} and {@link createHandlers}.
 */
export { COMMAND_HELP, CommandRouter, type ParsedCommand, parseCommand } from './commands';
export {
  type CredentialStore,
  type Credentials,
  DesktopCore,
  type DesktopCoreOptions,
  MemoryCredentials,
} from './desktop-core';
export { createHandlers, DesktopError, type DispatchResult, dispatch } from './handlers';
export { EventFeed } from './live';
export { ftsQuery, LocalStore, type LocalStoreOptions, type MemoryWrite, memoryText, type SearchHit } from './store';
export { type ConflictChoice, isUnreachable, mergeSides, SyncEngine, type SyncEngineOptions } from './sync-engine';
export { SqliteSyncStore } from './sync-store';
export { COARSE_DIMENSIONS, FULL_DIMENSIONS, fold, localEmbedder, VectorIndex } from './vector-index';
