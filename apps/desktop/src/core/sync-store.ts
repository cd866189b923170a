import type { PendingMutation, SyncStore } from '@ora/client';
import type { SyncConflict, SyncCursor, SyncMutationResult, SyncPullOutput } from '@ora/contracts';
import type { LocalStore } from './store';

/**
 * The local SQLite store as the reference sync client's {@link SyncStore}: each method is one
 * SQLite transaction of {@link LocalStore}. The SyncClient from @ora/client speaks the protocol;
 * this only keeps the replica.
 */
export class SqliteSyncStore implements SyncStore {
  constructor(readonly store: LocalStore) {}

  async clientId(): Promise<string> {
    return this.store.clientId;
  }

  async getCursor(): Promise<SyncCursor> {
    return this.store.cursor;
  }

  async setCursor(cursor: SyncCursor): Promise<void> {
    this.store.cursor = cursor;
  }

  async nextMutationId(): Promise<number> {
    return this.store.takeMutationId();
  }

  async pendingMutations(limit: number): Promise<PendingMutation[]> {
    return this.store.pendingMutations(limit);
  }

  async ackMutations(results: readonly SyncMutationResult[]): Promise<void> {
    this.store.ackMutations(results);
  }

  async renumberPending(lastMutationId: number): Promise<void> {
    this.store.renumberPending(lastMutationId);
  }

  async applyPulledPage(page: SyncPullOutput): Promise<void> {
    this.store.applyPulledPage(page);
  }

  async recordConflicts(conflicts: readonly SyncConflict[]): Promise<void> {
    for (const conflict of conflicts) this.store.saveConflict(conflict);
  }
}
