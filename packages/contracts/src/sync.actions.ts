import { action } from './action';
import {
  SyncConflictsListInput,
  SyncConflictsListOutput,
  SyncPullInput,
  SyncPullOutput,
  SyncPushInput,
  SyncPushOutput,
  SyncResolveInput,
  SyncResolveOutput,
  SyncStatusInput,
  SyncStatusOutput,
} from './sync';

/** The `sync.*` actions: their own rate-limit bucket. A key bound to an agent syncs only its rows. */
export const syncActions = {
  'sync.status': action({
    summary: 'Sync state: the newest server version, clients and their cursors, pending conflicts, counts',
    scope: 'sync:read',
    mutates: false,
    limitGroup: 'sync',
    input: SyncStatusInput,
    output: SyncStatusOutput,
  }),
  'sync.push': action({
    summary:
      'Apply a client’s mutations in order (replays answered, gaps refused); mismatched base versions become conflicts',
    scope: 'sync:write',
    mutates: true,
    limitGroup: 'sync',
    input: SyncPushInput,
    output: SyncPushOutput,
  }),
  'sync.pull': action({
    summary: 'The memories, conversations and tombstones changed after a cursor, in pages',
    scope: 'sync:read',
    mutates: false,
    limitGroup: 'sync',
    input: SyncPullInput,
    output: SyncPullOutput,
  }),
  'sync.resolve': action({
    summary: 'Settle a conflict: keep the server’s version, the client’s, or a merged value',
    scope: 'sync:write',
    mutates: true,
    limitGroup: 'sync',
    input: SyncResolveInput,
    output: SyncResolveOutput,
  }),
  'sync.conflicts': action({
    summary: 'List conflicts, newest first, by status or client, with both versions',
    scope: 'sync:read',
    mutates: false,
    limitGroup: 'sync',
    input: SyncConflictsListInput,
    output: SyncConflictsListOutput,
  }),
};
