import { type OraClient, OraClientError, SyncClient } from '@ora/client';
import type { DesktopSyncState, SyncConflict, SyncMemoryData, SyncStrategy } from '@ora/contracts';
import { mergeConversationData, mergeMemoryData } from '@ora/sync-core';
import type { LocalStore } from './store';
import { SqliteSyncStore } from './sync-store';

export interface SyncEngineOptions {
  store: LocalStore;
  /** null until the operator has given a server and a key. */
  client: OraClient | null;
  /** Wait this long after a local write before syncing, so a burst of writes is one push. Default 300 ms. */
  debounceMs?: number;
  /** Sync this often when nothing else triggers it. Default 30 s. */
  intervalMs?: number;
  /** First retry after a failure; doubles per failure up to maxBackoffMs. Default 1 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The strategy asked for this desktop's conflicts; default: the server's. */
  strategy?: SyncStrategy;
  /** Extra work for each cycle once the server answers (the command outbox). */
  afterSync?: () => Promise<void>;
}

export interface SyncEngineState {
  state: DesktopSyncState;
  online: boolean;
  lastSyncAt: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
  failures: number;
}

export type ConflictChoice = 'mine' | 'server' | 'merge' | 'edit';

/** Did the request fail to reach the server (down, refused, timed out), rather than get an answer? */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof OraClientError)
    return error.httpStatus === 502 || error.httpStatus === 503 || error.httpStatus === 504;
  const e = error as { name?: string; cause?: { code?: string } };
  return (
    e?.name === 'TypeError' || e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.cause?.code !== undefined
  );
}

/**
 * Background sync on the reference {@link SyncClient}: a cycle is push, pull, the conflict inbox
 * refreshed, then `afterSync` (commands waiting for the server). Cycles run one at a time; one
 * starts after a local write (debounced), on an interval, when asked (`syncNow`, a reconnect),
 * and after a failure with exponential backoff while the server cannot be reached. A failed cycle
 * drops nothing: the outbox keeps every mutation until the server has answered it.
 */
export class SyncEngine {
  readonly store: LocalStore;
  #client: OraClient | null;
  #sync: SyncClient | null = null;
  readonly #options: Required<Pick<SyncEngineOptions, 'debounceMs' | 'intervalMs' | 'backoffMs' | 'maxBackoffMs'>> &
    SyncEngineOptions;
  #state: SyncEngineState = {
    state: 'unconfigured',
    online: false,
    lastSyncAt: null,
    lastError: null,
    nextRetryAt: null,
    failures: 0,
  };
  #running: Promise<void> | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #interval: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #started = false;
  #unsubscribe: (() => void) | null = null;
  readonly #listeners = new Set<(state: SyncEngineState) => void>();

  constructor(options: SyncEngineOptions) {
    this.store = options.store;
    this.#options = { debounceMs: 300, intervalMs: 30_000, backoffMs: 1000, maxBackoffMs: 60_000, ...options };
    this.#client = null;
    this.setClient(options.client);
  }

  get state(): SyncEngineState {
    return { ...this.#state };
  }

  get client(): OraClient | null {
    return this.#client;
  }

  onState(listener: (state: SyncEngineState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(patch: Partial<SyncEngineState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener(this.state);
  }

  /** A new server or key: the next cycle uses it. */
  setClient(client: OraClient | null): void {
    this.#client = client;
    this.#sync = client
      ? new SyncClient(client, new SqliteSyncStore(this.store), {
          ...(this.#options.strategy ? { strategy: this.#options.strategy } : {}),
        })
      : null;
    this.#set({ state: client ? (this.#state.online ? 'idle' : 'offline') : 'unconfigured', failures: 0 });
    if (client && this.#started) this.schedule(0);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe = this.store.onLocalChange(() => this.schedule());
    this.#interval = setInterval(() => this.schedule(0), this.#options.intervalMs);
    this.#interval.unref?.();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.#started = false;
    this.#unsubscribe?.();
    for (const timer of [this.#debounce, this.#interval, this.#retry]) if (timer) clearTimeout(timer);
    this.#debounce = this.#interval = this.#retry = null;
    await this.#running?.catch(() => undefined);
  }

  /** A cycle soon (after the debounce), unless one is already due sooner. */
  schedule(delayMs = this.#options.debounceMs): void {
    if (!this.#started || !this.#sync) return;
    if (this.#retry && delayMs > 0) return; // backing off: the retry will take this write too
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.syncNow().catch(() => undefined);
    }, delayMs);
    this.#debounce.unref?.();
  }

  /** The network is back (or the operator asked): try now, whatever the backoff says. */
  reconnect(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    this.schedule(0);
  }

  /**
   * One cycle now; if one is running, another right after it (so a write made during that cycle
   * is pushed). Resolves when the cycle is done; rejects with its error.
   */
  async syncNow(): Promise<void> {
    while (this.#running) await this.#running.catch(() => undefined);
    const run = this.#cycle().finally(() => {
      this.#running = null;
    });
    this.#running = run;
    return run;
  }

  async #cycle(): Promise<void> {
    const sync = this.#sync;
    const client = this.#client;
    if (!sync || !client) throw new Error('No ORA server is configured: set the server URL and key first');
    this.#set({ state: 'syncing' });
    try {
      // Sync first; the commands still go out when the server answered sync with an error (a
      // refusal there says nothing about a task), not when it cannot be reached at all.
      let syncError: unknown = null;
      try {
        await sync.push();
        await sync.pull();
        await this.refreshConflicts();
      } catch (error) {
        if (isUnreachable(error)) throw error;
        syncError = error;
      }
      await this.#options.afterSync?.();
      if (syncError) throw syncError;
      if (this.#retry) clearTimeout(this.#retry);
      this.#retry = null;
      this.#set({
        state: 'idle',
        online: true,
        lastSyncAt: new Date().toISOString(),
        lastError: null,
        nextRetryAt: null,
        failures: 0,
      });
    } catch (error) {
      const failures = this.#state.failures + 1;
      const delay = Math.min(this.#options.maxBackoffMs, this.#options.backoffMs * 2 ** (failures - 1));
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      const unreachable = isUnreachable(error);
      if (this.#retry) clearTimeout(this.#retry);
      if (this.#started) {
        this.#retry = setTimeout(() => {
          this.#retry = null;
          void this.syncNow().catch(() => undefined);
        }, jittered);
        this.#retry.unref?.();
      }
      this.#set({
        state: unreachable ? 'offline' : 'error',
        online: !unreachable,
        lastError: describe(error),
        nextRetryAt: this.#started ? new Date(Date.now() + jittered).toISOString() : null,
        failures,
      });
      throw error;
    }
  }

  /** The server's pending conflicts of this desktop, into the inbox (a conflict settled elsewhere updates too). */
  async refreshConflicts(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const known = new Set(this.store.listConflicts('pending').map((c) => c.id));
    let cursor: string | undefined;
    do {
      const page = await client.call('sync.conflicts', {
        clientId: this.store.clientId,
        status: 'pending',
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const conflict of page.items) {
        this.store.saveConflict(conflict);
        known.delete(conflict.id);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // Pending here but no longer on the server: resolved elsewhere; fetch their final state.
    for (const id of known) {
      const page = await client.call('sync.conflicts', {
        clientId: this.store.clientId,
        status: 'resolved',
        limit: 200,
      });
      const settled = page.items.find((c) => c.id === id);
      if (settled) this.store.saveConflict(settled);
      break;
    }
  }

  /**
   * Settles a conflict from the inbox through `sync.resolve`: keep mine (the local version), keep
   * the server's, merge both by the sync rules, or store an edited value. The row's new version
   * comes back with the next pull, which runs right after.
   */
  async resolveConflict(conflictId: string, choice: ConflictChoice, value?: unknown): Promise<SyncConflict> {
    const client = this.#client;
    if (!client) throw new Error('No ORA server is configured: set the server URL and key first');
    const conflict = this.store.getConflict(conflictId);
    if (!conflict) throw Object.assign(new Error(`No conflict ${conflictId} in the inbox`), { code: 'NOT_FOUND' });
    let keep: 'server' | 'local' | 'merged';
    let merged: unknown;
    if (choice === 'mine') keep = 'local';
    else if (choice === 'server') keep = 'server';
    else if (choice === 'merge') {
      keep = 'merged';
      merged = mergeSides(conflict);
    } else {
      keep = 'merged';
      merged = editedValue(conflict, value);
    }
    const answer = await client.call('sync.resolve', {
      conflictId,
      keep,
      ...(merged !== undefined ? { merged } : {}),
    });
    this.store.saveConflict(answer.conflict);
    this.schedule(0);
    return answer.conflict;
  }
}

/** Both sides merged by @ora/sync-core's rules (objects per field; other content: the later side). */
export function mergeSides(conflict: SyncConflict): unknown {
  const local = conflict.localVersion.content as Record<string, unknown> | null;
  const server = conflict.serverVersion.content as Record<string, unknown> | null;
  if (!local || !server) return local ?? server;
  if (conflict.type === 'memory') {
    const l = local as unknown as SyncMemoryData;
    const s = server as unknown as SyncMemoryData;
    const merged = mergeMemoryData(l, s);
    if (merged) return merged;
    return Date.parse(l.updatedAt) > Date.parse(s.updatedAt) ? l : s;
  }
  const { messages: _lm, ...l } = local;
  const { messages: _sm, ...s } = server;
  return mergeConversationData(l as never, s as never);
}

/** The operator's edit: for a memory, the new content over the server's version (now as its time). */
function editedValue(conflict: SyncConflict, value: unknown): unknown {
  if (value === undefined) {
    throw Object.assign(new Error('keep "edit" needs the edited value'), { code: 'VALIDATION_ERROR' });
  }
  const base = (conflict.serverVersion.content ?? conflict.localVersion.content) as Record<string, unknown> | null;
  if (conflict.type === 'memory' && base) {
    return { ...base, content: value, updatedAt: new Date().toISOString() };
  }
  return { ...(base ?? {}), ...(value as object), updatedAt: new Date().toISOString() };
}

function describe(error: unknown): string {
  if (error instanceof OraClientError) return `${error.code}: ${error.message}`;
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.cause?.code) return `The ORA server cannot be reached (${e.cause.code})`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'The ORA server did not answer in time';
  return e?.message ?? String(error);
}
