/**
 * @ora/sync-core: the pure rules of ORA's sync, shared by the server (packages/core/src/sync) and
 * the desktop. No I/O, no clock: every input is an argument. Imports only contracts.
 *
 * - {@link isConflict}: a mutation conflicts when its base version is not the row's current one.
 * - {@link chooseStrategy}: the request's strategy, else the memory type's from config, else
 *   last_write_wins.
 * - {@link settleConflict}: what a strategy makes of the two sides (the local mutation and the
 *   server's row): which value the row takes, and the outcome the conflict record keeps.
 * - {@link mergeJson}, {@link mergeMemoryData}, {@link mergeConversationData},
 *   {@link mergeMessages}: the merge strategy's rules (docs/sync.md lists them).
 */
import type { MemoryType, SyncConversationData, SyncMemoryData, SyncMessage, SyncStrategy } from '@ora/contracts';
import { MemoryType as MemoryTypeSchema, SyncStrategy as SyncStrategySchema } from '@ora/contracts';

/** A mutation conflicts when the version it was based on is not the row's current one. */
export function isConflict(baseVersion: string | null, currentVersion: string | null): boolean {
  return (baseVersion ?? null) !== (currentVersion ?? null);
}

export type StrategyByType = Partial<Record<MemoryType, SyncStrategy>>;

/** The strategy for one conflict: asked in the request, else configured for the memory's type, else last_write_wins. */
export function chooseStrategy(options: {
  requested?: SyncStrategy | undefined;
  memoryType?: MemoryType | null | undefined;
  byType?: StrategyByType | undefined;
}): SyncStrategy {
  if (options.requested) return options.requested;
  if (options.memoryType && options.byType?.[options.memoryType]) {
    return options.byType[options.memoryType] as SyncStrategy;
  }
  return 'last_write_wins';
}

/**
 * Parses `preference=manual,fact=merge` (the ORA_SYNC_STRATEGIES format). Throws an Error naming
 * the bad entry.
 */
export function parseStrategyMap(text: string): StrategyByType {
  const map: StrategyByType = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [type, strategy, extra] = entry.split('=').map((s) => s.trim());
    const t = MemoryTypeSchema.safeParse(type);
    const s = SyncStrategySchema.safeParse(strategy);
    if (extra !== undefined || !t.success || !s.success) {
      throw new Error(
        `"${entry}": expected <memory type>=<strategy> (types: ${MemoryTypeSchema.options.join(', ')}; strategies: ${SyncStrategySchema.options.join(', ')})`,
      );
    }
    if (map[t.data]) throw new Error(`"${entry}": the type ${t.data} is given twice`);
    map[t.data] = s.data;
  }
  return map;
}

/** Which side is the later write: local only when its updatedAt is strictly later (the server wins a tie). */
export function laterSide(localUpdatedAt: string | null, serverUpdatedAt: string | null): 'local' | 'server' {
  const l = localUpdatedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(localUpdatedAt);
  const s = serverUpdatedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(serverUpdatedAt);
  return l > s ? 'local' : 'server';
}

/** One side of a conflict: its value (null: deleted or absent) and when it was written. */
export interface ConflictSide<T> {
  value: T | null;
  updatedAt: string | null;
}

export type ConflictOutcome = 'server_kept' | 'local_applied' | 'merged' | 'pending';

export interface Settlement<T> {
  outcome: ConflictOutcome;
  /** The value the row takes (null: deleted); for server_kept and pending, the server's. */
  value: T | null;
  /** The merged value, when the outcome is merged. */
  merged: T | null;
  /** The strategy that decided: merge falls back to last_write_wins when a side is not mergeable. */
  decidedBy: SyncStrategy;
}

/**
 * Settles one conflict. `merge` takes a function that merges two live values, or returns
 * undefined when they cannot be merged (then, and when either side is a deletion, it falls back
 * to last_write_wins).
 */
export function settleConflict<T>(
  strategy: SyncStrategy,
  local: ConflictSide<T>,
  server: ConflictSide<T>,
  merge: (local: T, server: T, later: 'local' | 'server') => T | undefined,
): Settlement<T> {
  const keepServer = (decidedBy: SyncStrategy): Settlement<T> => ({
    outcome: 'server_kept',
    value: server.value,
    merged: null,
    decidedBy,
  });
  const takeLocal = (decidedBy: SyncStrategy): Settlement<T> => ({
    outcome: 'local_applied',
    value: local.value,
    merged: null,
    decidedBy,
  });
  switch (strategy) {
    case 'server_wins':
      return keepServer(strategy);
    case 'local_wins':
      return takeLocal(strategy);
    case 'manual':
      return { outcome: 'pending', value: server.value, merged: null, decidedBy: strategy };
    case 'merge': {
      const later = laterSide(local.updatedAt, server.updatedAt);
      if (local.value !== null && server.value !== null) {
        const merged = merge(local.value, server.value, later);
        if (merged !== undefined) return { outcome: 'merged', value: merged, merged, decidedBy: 'merge' };
      }
      return later === 'local' ? takeLocal('last_write_wins') : keepServer('last_write_wins');
    }
    case 'last_write_wins':
      return laterSide(local.updatedAt, server.updatedAt) === 'local' ? takeLocal(strategy) : keepServer(strategy);
  }
}

// ---------------------------------------------------------------------------------------------
// Merge rules

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Merges two JSON values field by field. Sync has both full values but no common ancestor, so
 * the rules cannot tell "removed on one side" from "added on the other":
 * - equal values stay;
 * - objects: every key of either side is kept; a key on one side only is kept as it is; a key
 *   on both is merged by these rules, recursively;
 * - arrays: the union, in the later side's order, then the other side's elements it lacks (by
 *   deep equality) in their order;
 * - anything else that differs (scalars, or different kinds): the later side's value (the
 *   server's on a tie).
 */
export function mergeJson(local: unknown, server: unknown, later: 'local' | 'server'): unknown {
  if (jsonEqual(local, server)) return server;
  if (isPlainObject(local) && isPlainObject(server)) {
    const out: Record<string, unknown> = {};
    const keys = [...new Set([...Object.keys(server), ...Object.keys(local)])];
    for (const key of keys) {
      const inLocal = Object.hasOwn(local, key) && local[key] !== undefined;
      const inServer = Object.hasOwn(server, key) && server[key] !== undefined;
      if (inLocal && inServer) out[key] = mergeJson(local[key], server[key], later);
      else if (inServer) out[key] = server[key];
      else if (inLocal) out[key] = local[key];
    }
    return out;
  }
  if (Array.isArray(local) && Array.isArray(server)) {
    const [first, second] = later === 'local' ? [local, server] : [server, local];
    const out: unknown[] = [];
    for (const item of [...first, ...second]) if (!out.some((o) => jsonEqual(o, item))) out.push(item);
    return out;
  }
  return later === 'local' ? local : server;
}

/**
 * Merges two versions of one memory. Structured content (a JSON object on both sides) merges by
 * {@link mergeJson}; any other content cannot be merged (undefined: the caller falls back to
 * last_write_wins). The other fields: equal stays, different takes the later side's. The memory's
 * identity (agent, type, key) stays the server's; updatedAt is the later of the two.
 */
export function mergeMemoryData(
  local: SyncMemoryData,
  server: SyncMemoryData,
  later: 'local' | 'server' = laterSide(local.updatedAt, server.updatedAt),
): SyncMemoryData | undefined {
  if (!isPlainObject(local.content) || !isPlainObject(server.content)) return undefined;
  const pick = <K extends keyof SyncMemoryData>(k: K): SyncMemoryData[K] =>
    jsonEqual(local[k], server[k]) ? server[k] : later === 'local' ? local[k] : server[k];
  return {
    agentId: server.agentId,
    type: server.type,
    key: server.key,
    content: mergeJson(local.content, server.content, later) as SyncMemoryData['content'],
    summary: pick('summary'),
    importance: pick('importance'),
    pinned: pick('pinned'),
    expiresAt: pick('expiresAt'),
    updatedAt: later === 'local' ? local.updatedAt : server.updatedAt,
  };
}

/** A conversation's own fields merge per field (different: the later side's); the owner stays the server's. */
export function mergeConversationData(
  local: SyncConversationData,
  server: SyncConversationData,
  later: 'local' | 'server' = laterSide(local.updatedAt, server.updatedAt),
): SyncConversationData {
  const pick = <K extends 'title' | 'status'>(k: K): SyncConversationData[K] =>
    local[k] === server[k] ? server[k] : later === 'local' ? local[k] : server[k];
  return {
    agentId: server.agentId,
    title: pick('title'),
    status: pick('status'),
    updatedAt: later === 'local' ? local.updatedAt : server.updatedAt,
  };
}

/** Orders messages as every replica does: by createdAt, then id. */
export function compareMessages(
  a: Pick<SyncMessage, 'id' | 'createdAt'>,
  b: Pick<SyncMessage, 'id' | 'createdAt'>,
): number {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The union of two message lists by id, ordered by createdAt then id. Messages never change once
 * written, so an id on both sides keeps the server's copy.
 */
export function mergeMessages<M extends Pick<SyncMessage, 'id' | 'createdAt'>>(
  local: readonly M[],
  server: readonly M[],
): M[] {
  const byId = new Map<string, M>();
  for (const m of server) if (!byId.has(m.id)) byId.set(m.id, m);
  for (const m of local) if (!byId.has(m.id)) byId.set(m.id, m);
  return [...byId.values()].sort(compareMessages);
}
