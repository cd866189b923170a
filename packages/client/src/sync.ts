/**
 * The reference sync client: the client half of ORA's sync protocol (docs/sync.md), written once
 * here so that every client (the desktop over SQLite, the tests, the reconciliation command over
 * a snapshot) follows the same rules.
 *
 * A client keeps a replica of the memories and conversations it may sync and an **outbox** of the
 * changes it made locally, each numbered by a **mutation id** (1, 2, 3, ... per client, no gaps,
 * across memories and conversations) and carrying the **base version**: the `serverVersion` of the
 * row the client last saw (null for a row it created). {@link SyncClient} does two things:
 *
 * - `push()` sends the outbox in order. The server applies each mutation once: a mutation it has
 *   already taken (the answer was lost, a retry, a duplicate) is answered from its record as
 *   `replayed`. Every answered mutation leaves the outbox (`SyncStore.ackMutations`). A mutation
 *   whose base version is not the server's current one is a conflict, settled on the server by a
 *   strategy; the client stores the conflict record (`recordConflicts`) and learns the outcome
 *   from the next pull (a conflict always gives the row a new version). A `refused` mutation
 *   (a `sync: false` memory, a memory type the server never syncs, another agent's row) changed
 *   nothing: the store keeps the row as local-only. A push refused for a **gap** (the first new
 *   mutation id is not the server's last + 1, details `{ expectedMutationId, lastMutationId }`)
 *   means this replica lost track of its numbering (a restored backup on either side): the pending
 *   mutations after `lastMutationId` are renumbered to follow it, and the push is tried again.
 * - `pull()` asks for the changes after the stored **cursor**, page by page, until `hasMore` is
 *   false. A page is applied in one step (`applyPulledPage`): a row with a pending local mutation
 *   keeps its local value (the push will settle it and the row comes back with a newer version);
 *   every other row takes the server's value, tombstones delete, and messages are added by id.
 *   The cursor is stored after the page is applied, so a crash repeats a page (harmless) and never
 *   skips one.
 *
 * `syncOnce()` is push, then pull. Run it on a timer and after local writes; it is safe to run
 * after any failure, since every step is idempotent.
 *
 * The desktop implements {@link SyncStore} over SQLite (each method one transaction);
 * {@link InMemorySyncStore} is the reference implementation, used by tests, and its `snapshot()` is
 * the file `ora sync check --snapshot` compares with the server.
 */
import {
  type ActionInput,
  type ActionOutput,
  OraError,
  type SyncConflict,
  type SyncConversationData,
  type SyncConversationMutation,
  type SyncCursor,
  type SyncMemoryData,
  type SyncMemoryMutation,
  type SyncMessage,
  type SyncMutationResult,
  type SyncPullOutput,
  type SyncSnapshot,
  type SyncStrategy,
} from '@ora/contracts';

/** The sync actions a {@link SyncClient} calls. `OraClient` is one; tests may call core directly. */
export type SyncActionName = 'sync.push' | 'sync.pull';

export interface SyncCaller {
  call<A extends SyncActionName>(action: A, data: ActionInput<A>): Promise<ActionOutput<A>>;
}

/** One entry of the outbox: a memory or a conversation mutation, exactly as it is sent. */
export type PendingMutation =
  | { entity: 'memory'; mutation: SyncMemoryMutation }
  | { entity: 'conversation'; mutation: SyncConversationMutation };

/**
 * Where a client keeps its replica, outbox and cursor. Each method should be atomic (one SQLite
 * transaction); the client calls them one at a time.
 */
export interface SyncStore {
  /** This replica's id, chosen once (e.g. `desktop-<uuid>`) and kept. */
  clientId(): Promise<string>;
  /** The cursor of the last applied page; "0" before the first pull. */
  getCursor(): Promise<SyncCursor>;
  setCursor(cursor: SyncCursor): Promise<void>;
  /**
   * Takes the next mutation id (the last one + 1). Take it in the same transaction that appends
   * the mutation to the outbox, so no id is ever taken and lost.
   */
  nextMutationId(): Promise<number>;
  /** The outbox, oldest first (mutation id order), at most `limit` entries. */
  pendingMutations(limit: number): Promise<PendingMutation[]>;
  /**
   * The server answered these mutations (applied, conflict, replayed or refused): they leave the
   * outbox. A result for a mutation no longer in the outbox (a duplicate answer) is ignored.
   */
  ackMutations(results: readonly SyncMutationResult[]): Promise<void>;
  /**
   * After a gap: the pending mutations numbered above `lastMutationId` are renumbered
   * `lastMutationId + 1, + 2, ...` in their order, and the next id follows them.
   */
  renumberPending(lastMutationId: number): Promise<void>;
  /** Applies one pulled page; a row with a pending local mutation keeps its local value. */
  applyPulledPage(page: SyncPullOutput): Promise<void>;
  /** Keeps the conflict records the server reported (both versions), newest state per id. */
  recordConflicts(conflicts: readonly SyncConflict[]): Promise<void>;
}

export interface SyncClientOptions {
  /** Mutations per push request (the server takes up to 1000 per list). Default 500. */
  pushLimit?: number;
  /** Changes per pulled page. Default 500. */
  pullLimit?: number;
  /** The strategy asked for this client's conflicts; default: the server's (per memory type). */
  strategy?: SyncStrategy;
  /** Gap recoveries per push() before giving up. Default 3. */
  maxGapRetries?: number;
}

export interface PushReport {
  sent: number;
  applied: number;
  conflicts: number;
  replayed: number;
  refused: number;
  /** Gaps the server reported and this client renumbered past. */
  renumbered: number;
}

export interface PullReport {
  pages: number;
  memories: number;
  conversations: number;
  messages: number;
  tombstones: number;
  cursor: SyncCursor;
}

/** Drives one replica: push the outbox, pull the changes. See the module comment. */
export class SyncClient {
  readonly #caller: SyncCaller;
  readonly #store: SyncStore;
  readonly #pushLimit: number;
  readonly #pullLimit: number;
  readonly #strategy: SyncStrategy | undefined;
  readonly #maxGapRetries: number;

  constructor(caller: SyncCaller, store: SyncStore, options: SyncClientOptions = {}) {
    this.#caller = caller;
    this.#store = store;
    this.#pushLimit = Math.min(1000, Math.max(1, options.pushLimit ?? 500));
    this.#pullLimit = Math.min(1000, Math.max(1, options.pullLimit ?? 500));
    this.#strategy = options.strategy;
    this.#maxGapRetries = options.maxGapRetries ?? 3;
  }

  /** Sends the whole outbox, in requests of `pushLimit` mutations, until it is empty. */
  async push(): Promise<PushReport> {
    const report: PushReport = { sent: 0, applied: 0, conflicts: 0, replayed: 0, refused: 0, renumbered: 0 };
    const clientId = await this.#store.clientId();
    let gaps = 0;
    for (;;) {
      const pending = await this.#store.pendingMutations(this.#pushLimit);
      if (pending.length === 0) return report;
      const memories: SyncMemoryMutation[] = [];
      const conversations: SyncConversationMutation[] = [];
      for (const p of pending) {
        if (p.entity === 'memory') memories.push(p.mutation);
        else conversations.push(p.mutation);
      }
      let answer: ActionOutput<'sync.push'>;
      try {
        answer = await this.#caller.call('sync.push', {
          clientId,
          memories,
          conversations,
          ...(this.#strategy ? { strategy: this.#strategy } : {}),
        });
      } catch (error) {
        const last = gapOf(error);
        if (last === null || gaps >= this.#maxGapRetries) throw error;
        gaps++;
        report.renumbered++;
        await this.#store.renumberPending(last);
        continue;
      }
      report.sent += pending.length;
      for (const m of answer.mutations) {
        if (m.status === 'applied') report.applied++;
        else if (m.status === 'conflict') report.conflicts++;
        else if (m.status === 'replayed') report.replayed++;
        else report.refused++;
      }
      const conflicts = [
        ...answer.results.memories.conflicts.map((c) => c.conflict),
        ...answer.results.conversations.conflicts.map((c) => c.conflict),
      ];
      if (conflicts.length > 0) await this.#store.recordConflicts(conflicts);
      await this.#store.ackMutations(answer.mutations);
      // Nothing of this request was answered: the server and this outbox disagree; stop, not spin.
      const answered = new Set(answer.mutations.map((m) => m.mutationId));
      if (!pending.some((p) => answered.has(p.mutation.mutationId))) {
        throw new OraError({
          code: 'INTERNAL_ERROR',
          message: 'sync.push answered none of the mutations sent; the outbox is left as it is',
        });
      }
    }
  }

  /** Pulls every page after the stored cursor and applies it. */
  async pull(): Promise<PullReport> {
    const clientId = await this.#store.clientId();
    let cursor = await this.#store.getCursor();
    const report: PullReport = { pages: 0, memories: 0, conversations: 0, messages: 0, tombstones: 0, cursor };
    for (;;) {
      const page = await this.#caller.call('sync.pull', { clientId, cursor, limit: this.#pullLimit });
      await this.#store.applyPulledPage(page);
      await this.#store.setCursor(page.cursor);
      report.pages++;
      report.memories += page.memories.length;
      report.conversations += page.conversations.length;
      report.messages += page.conversations.reduce((n, c) => n + c.messages.length, 0);
      report.tombstones += page.tombstones.length;
      const moved = page.cursor !== cursor;
      cursor = page.cursor;
      report.cursor = cursor;
      if (!page.hasMore || !moved) return report;
    }
  }

  /** Push, then pull. */
  async syncOnce(): Promise<{ push: PushReport; pull: PullReport }> {
    const push = await this.push();
    const pull = await this.pull();
    return { push, pull };
  }
}

/** The server's last mutation id when `error` is a gap refusal, else null. */
function gapOf(error: unknown): number | null {
  if (!(error instanceof OraError) || error.code !== 'CONFLICT') return null;
  const details = error.details as { expectedMutationId?: unknown; lastMutationId?: unknown } | undefined;
  if (typeof details?.expectedMutationId !== 'number' || typeof details.lastMutationId !== 'number') return null;
  return details.lastMutationId;
}

// ---------------------------------------------------------------------------------------------
// The in-memory store

/** A memory in a replica. */
export interface LocalMemory extends SyncMemoryData {
  id: string;
  /** The version this replica last took from the server; null: never seen there. */
  serverVersion: SyncCursor | null;
  /** Refused by the server (out of sync scope): kept here, never compared. */
  localOnly: boolean;
}

/** A conversation in a replica, with its messages ordered by createdAt, then id. */
export interface LocalConversation extends SyncConversationData {
  id: string;
  serverVersion: SyncCursor | null;
  localOnly: boolean;
  messages: SyncMessage[];
}

/** Orders messages as every replica does: by createdAt, then id. */
export function compareMessages(a: Pick<SyncMessage, 'id' | 'createdAt'>, b: Pick<SyncMessage, 'id' | 'createdAt'>) {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Adds messages by id (an id already there keeps its first copy), in replica order. */
export function unionMessages(current: readonly SyncMessage[], added: readonly SyncMessage[]): SyncMessage[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of added) if (!byId.has(m.id)) byId.set(m.id, stripSeq(m));
  return [...byId.values()].sort(compareMessages);
}

function stripSeq(m: SyncMessage & { seq?: string }): SyncMessage {
  return { id: m.id, role: m.role, content: m.content, metadata: m.metadata ?? {}, createdAt: m.createdAt };
}

/**
 * A {@link SyncStore} in memory, with the local edits an app makes (`writeMemory`, `deleteMemory`,
 * `writeConversation`, `appendMessages`, `deleteConversation`): each changes the replica and
 * appends its mutation to the outbox. `snapshot()` exports the replica for `ora sync check`.
 */
export class InMemorySyncStore implements SyncStore {
  readonly memories = new Map<string, LocalMemory>();
  readonly conversations = new Map<string, LocalConversation>();
  readonly conflicts = new Map<string, SyncConflict>();
  readonly outbox: PendingMutation[] = [];
  /** Every mutation this replica made, in order (the outbox entries are the same objects). */
  readonly log: PendingMutation[] = [];
  /** Every answer the server gave this replica, by mutation id (the first one kept). */
  readonly answers = new Map<number, SyncMutationResult>();
  #cursor: SyncCursor = '0';
  #lastMutationId = 0;

  constructor(readonly id: string) {}

  async clientId(): Promise<string> {
    return this.id;
  }
  async getCursor(): Promise<SyncCursor> {
    return this.#cursor;
  }
  async setCursor(cursor: SyncCursor): Promise<void> {
    this.#cursor = cursor;
  }
  async nextMutationId(): Promise<number> {
    this.#lastMutationId += 1;
    return this.#lastMutationId;
  }
  async pendingMutations(limit: number): Promise<PendingMutation[]> {
    return this.outbox.slice(0, limit).map((p) => structuredClone(p));
  }

  async ackMutations(results: readonly SyncMutationResult[]): Promise<void> {
    const byId = new Map(results.map((r) => [r.mutationId, r]));
    const acked: PendingMutation[] = [];
    for (let i = this.outbox.length - 1; i >= 0; i--) {
      const entry = this.outbox[i] as PendingMutation;
      if (byId.has(entry.mutation.mutationId)) {
        acked.unshift(entry);
        this.outbox.splice(i, 1);
      }
    }
    for (const entry of acked) {
      const result = byId.get(entry.mutation.mutationId) as SyncMutationResult;
      if (!this.answers.has(result.mutationId)) this.answers.set(result.mutationId, result);
      const status = result.status === 'replayed' ? (result.replayedStatus ?? 'replayed') : result.status;
      const id = entry.mutation.syncId;
      if (status === 'refused') {
        const row = entry.entity === 'memory' ? this.memories.get(id) : this.conversations.get(id);
        if (row) row.localOnly = true;
        continue;
      }
      // Only a plain success says the server now holds exactly this replica's value at that
      // version; after a conflict the next pull brings the outcome. An append is a union that
      // never checks the base, so the row may hold fields this replica has not seen yet.
      if (status !== 'applied' || result.serverVersion === null || this.#hasPending(id)) continue;
      if (entry.mutation.action === 'append') continue;
      const row = entry.entity === 'memory' ? this.memories.get(id) : this.conversations.get(id);
      if (row) row.serverVersion = result.serverVersion;
    }
  }

  async renumberPending(lastMutationId: number): Promise<void> {
    let next = lastMutationId;
    for (const entry of this.outbox) {
      if (entry.mutation.mutationId > lastMutationId) entry.mutation.mutationId = ++next;
    }
    this.#lastMutationId = Math.max(next, lastMutationId);
  }

  async applyPulledPage(page: SyncPullOutput): Promise<void> {
    for (const m of page.memories) {
      if (this.#hasPending(m.id)) continue;
      this.memories.set(m.id, {
        id: m.id,
        agentId: m.agentId,
        type: m.type,
        key: m.key,
        content: m.content,
        summary: m.summary,
        importance: m.importance,
        pinned: m.pinned,
        expiresAt: m.expiresAt,
        updatedAt: m.updatedAt,
        serverVersion: m.serverVersion,
        localOnly: false,
      });
    }
    for (const c of page.conversations) {
      const local = this.conversations.get(c.id);
      const pending = this.#pendingOps(c.id);
      // A local delete waits for its push; appended messages are a union and never wait.
      if (pending.has('delete')) continue;
      const keepFields = pending.has('upsert') && local !== undefined;
      this.conversations.set(c.id, {
        id: c.id,
        agentId: keepFields ? local.agentId : c.agentId,
        title: keepFields ? local.title : c.title,
        status: keepFields ? local.status : c.status,
        updatedAt: keepFields ? local.updatedAt : c.updatedAt,
        serverVersion: pending.size > 0 ? (local?.serverVersion ?? null) : c.serverVersion,
        localOnly: false,
        messages: unionMessages(local?.messages ?? [], c.messages),
      });
    }
    for (const t of page.tombstones) {
      if (this.#hasPending(t.id)) continue;
      if (t.type === 'memory') this.memories.delete(t.id);
      else this.conversations.delete(t.id);
    }
  }

  async recordConflicts(conflicts: readonly SyncConflict[]): Promise<void> {
    for (const c of conflicts) this.conflicts.set(c.id, c);
  }

  #queue(entry: PendingMutation): void {
    this.outbox.push(entry);
    this.log.push(entry);
  }

  #hasPending(id: string): boolean {
    return this.outbox.some((p) => p.mutation.syncId === id);
  }
  #pendingOps(id: string): Set<string> {
    return new Set(this.outbox.filter((p) => p.mutation.syncId === id).map((p) => p.mutation.action));
  }

  // -------------------------------------------------------------------------------------------
  // Local edits (what an app does offline)

  /** Creates or changes a memory (by id) and queues its upsert. */
  async writeMemory(id: string, data: SyncMemoryData): Promise<SyncMemoryMutation> {
    const current = this.memories.get(id);
    this.memories.set(id, {
      ...structuredClone(data),
      id,
      serverVersion: current?.serverVersion ?? null,
      localOnly: current?.localOnly ?? false,
    });
    const mutation: SyncMemoryMutation = {
      syncId: id,
      mutationId: await this.nextMutationId(),
      action: 'upsert',
      baseVersion: current?.serverVersion ?? null,
      data: structuredClone(data),
    };
    this.#queue({ entity: 'memory', mutation });
    return mutation;
  }

  async deleteMemory(id: string, updatedAt: string): Promise<SyncMemoryMutation> {
    const current = this.memories.get(id);
    this.memories.delete(id);
    const mutation: SyncMemoryMutation = {
      syncId: id,
      mutationId: await this.nextMutationId(),
      action: 'delete',
      baseVersion: current?.serverVersion ?? null,
      data: { updatedAt },
    };
    this.#queue({ entity: 'memory', mutation });
    return mutation;
  }

  async writeConversation(id: string, data: SyncConversationData): Promise<SyncConversationMutation> {
    const current = this.conversations.get(id);
    this.conversations.set(id, {
      ...structuredClone(data),
      id,
      serverVersion: current?.serverVersion ?? null,
      localOnly: current?.localOnly ?? false,
      messages: current?.messages ?? [],
    });
    const mutation: SyncConversationMutation = {
      syncId: id,
      mutationId: await this.nextMutationId(),
      action: 'upsert',
      baseVersion: current?.serverVersion ?? null,
      data: structuredClone(data),
    };
    this.#queue({ entity: 'conversation', mutation });
    return mutation;
  }

  /** Appends messages (creating the conversation locally if needed) and queues the append. */
  async appendMessages(
    id: string,
    agentId: string | null,
    messages: readonly SyncMessage[],
  ): Promise<SyncConversationMutation> {
    const current = this.conversations.get(id);
    const last = messages.reduce(
      (t, m) => (Date.parse(m.createdAt) > Date.parse(t) ? m.createdAt : t),
      '1970-01-01T00:00:00.000Z',
    );
    this.conversations.set(id, {
      id,
      agentId: current?.agentId ?? agentId,
      title: current?.title ?? null,
      status: current?.status ?? 'active',
      updatedAt: current && Date.parse(current.updatedAt) > Date.parse(last) ? current.updatedAt : last,
      serverVersion: current?.serverVersion ?? null,
      localOnly: current?.localOnly ?? false,
      messages: unionMessages(current?.messages ?? [], messages),
    });
    const mutation: SyncConversationMutation = {
      syncId: id,
      mutationId: await this.nextMutationId(),
      action: 'append',
      baseVersion: current?.serverVersion ?? null,
      data: { agentId, messages: structuredClone([...messages]) },
    };
    this.#queue({ entity: 'conversation', mutation });
    return mutation;
  }

  async deleteConversation(id: string, updatedAt: string): Promise<SyncConversationMutation> {
    const current = this.conversations.get(id);
    this.conversations.delete(id);
    const mutation: SyncConversationMutation = {
      syncId: id,
      mutationId: await this.nextMutationId(),
      action: 'delete',
      baseVersion: current?.serverVersion ?? null,
      data: { updatedAt },
    };
    this.#queue({ entity: 'conversation', mutation });
    return mutation;
  }

  /** The replica as the file `ora sync check --snapshot` reads (format `ora-sync-snapshot/1`). */
  snapshot(now: Date = new Date()): SyncSnapshot {
    return {
      format: 'ora-sync-snapshot/1',
      clientId: this.id,
      cursor: this.#cursor,
      takenAt: now.toISOString(),
      pendingMutations: this.outbox.length,
      memories: [...this.memories.values()].map((m) => structuredClone(m)),
      conversations: [...this.conversations.values()].map((c) => structuredClone(c)),
    };
  }
}
