export type { SyncDeps, SyncSettings } from './sync.deps';
export { DEFAULT_SYNC_SETTINGS } from './sync.deps';
export { pullHorizon } from './sync.horizon';
export { memoryRowToSyncData } from './sync.mapping';
export { pullChanges } from './sync.pull';
export { pushMutations } from './sync.push';
export { listConflicts, resolveConflict, syncStatus } from './sync.service';
