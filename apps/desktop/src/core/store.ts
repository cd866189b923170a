import { randomUUID } from 'node:crypto';
import type { PendingMutation } from '@ora/client';
import type {
  LocalConversation,
  LocalMemory,
  LocalMessage,
  MemoryType,
  PendingCommand,
  ProposedPlan,
  ScoreBreakdown,
  SyncConflict,
  SyncConversationData,
  SyncMemoryData,
  SyncMessage,
  SyncMutationResult,
  SyncPulledConversation,
  SyncPulledMemory,
  SyncPullOutput,
  SyncTombstone,
  TrackedTask,
} from '@ora/contracts';
import {
  contentToText,
  DEFAULT_SCORING,
  humanizeKey,
  isZeroVector,
  normalizeText,
  rankCandidates,
  type ScoringConfig,
  STOPWORDS,
  words,
} from '@ora/retrieval';
import Database from 'better-sqlite3';
import {
  bufferToCoarse,
  COARSE_DIMENSIONS,
  coarseToBuffer,
  fold,
  localEmbedder,
  quantize,
  type SlotMeta,
  VectorIndex,
} from './vector-index';

type Db = Database.Database;

export interface LocalStoreOptions {
  /** Default: the wall clock. */
  now?: () => Date;
  scoring?: ScoringConfig;
  /** A fixed client id (tests, benchmarks); default: a new one the first time, then the stored one. */
  clientId?: string;
}

/** A local memory write (the desktop's own; it goes to the outbox). */
export interface MemoryWrite {
  id?: string;
  agentId?: string | null;
  type: MemoryType;
  key: string;
  content: unknown;
  summary?: string | null;
  importance?: number;
  pinned?: boolean;
  expiresAt?: string | null;
}

export interface SearchOptions {
  limit?: number;
  types?: readonly MemoryType[];
  /** undefined: every owner; null: ORA's own memory; an id: that agent's. */
  agentId?: string | null;
  /** Count the hits as used (default true). */
  recordAccess?: boolean;
}

export interface SearchHit {
  memory: LocalMemory;
  score: ScoreBreakdown;
}

/** One queued mutation, as the outbox keeps it. */
export interface OutboxEntry {
  mutationId: number;
  entity: 'memory' | 'conversation';
  syncId: string;
  action: 'upsert' | 'delete' | 'append';
  baseVersion: string | null;
  data: unknown;
  sent: boolean;
}

const SCHEMA = `
create table if not exists meta (key text primary key, value text not null);
create table if not exists memories (
  rowid integer primary key,
  id text not null unique,
  agent_id text,
  type text not null,
  key text not null,
  content text not null,
  summary text,
  importance real not null default 0.5,
  pinned integer not null default 0,
  expires_at text,
  updated_at text not null,
  created_at text not null,
  server_version text,
  deleted integer not null default 0,
  local_only integer not null default 0,
  access_count integer not null default 0,
  last_accessed_at text,
  vec_coarse blob,
  vec_full blob,
  vec_scale real
);
create index if not exists memories_owner_key on memories (coalesce(agent_id, ''), type, key);
create virtual table if not exists memory_fts using fts5 (text, tokenize = 'porter unicode61 remove_diacritics 2');
create table if not exists conversations (
  id text primary key,
  agent_id text,
  title text,
  status text not null,
  updated_at text not null,
  created_at text not null,
  server_version text,
  deleted integer not null default 0,
  local_only integer not null default 0
);
create table if not exists messages (
  conversation_id text not null,
  id text not null,
  role text not null,
  content text not null,
  metadata text not null default '{}',
  created_at text not null,
  seq text,
  primary key (conversation_id, id)
);
create index if not exists messages_order on messages (conversation_id, created_at, id);
create table if not exists outbox (
  mutation_id integer primary key,
  entity text not null,
  sync_id text not null,
  action text not null,
  base_version text,
  data text not null,
  sent integer not null default 0,
  created_at text not null
);
create index if not exists outbox_sync_id on outbox (sync_id);
create table if not exists commands (
  id text primary key,
  conversation_id text,
  action text not null,
  data text not null,
  status text not null,
  attempts integer not null default 0,
  error text,
  result text,
  created_at text not null,
  updated_at text not null
);
create table if not exists conflicts (
  id text primary key,
  status text not null,
  created_at text not null,
  data text not null
);
create table if not exists tasks (
  id text primary key,
  data text not null,
  updated_at text not null
);
create table if not exists plans (
  id text primary key,
  status text not null,
  data text not null
);
`;

const iso = (value: string | Date) => (value instanceof Date ? value : new Date(value)).toISOString();

interface MemoryRow {
  rowid: number;
  id: string;
  agent_id: string | null;
  type: string;
  key: string;
  content: string;
  summary: string | null;
  importance: number;
  pinned: number;
  expires_at: string | null;
  updated_at: string;
  created_at: string;
  server_version: string | null;
  deleted: number;
  local_only: number;
  access_count: number;
  last_accessed_at: string | null;
}

interface ConversationRow {
  id: string;
  agent_id: string | null;
  title: string | null;
  status: string;
  updated_at: string;
  created_at: string;
  server_version: string | null;
  n: number;
}

interface MessageRow {
  conversation_id: string;
  id: string;
  role: string;
  content: string;
  metadata: string;
  created_at: string;
  seq: string | null;
}

const MEMORY_COLUMNS = `rowid, id, agent_id, type, key, content, summary, importance, pinned, expires_at,
  updated_at, created_at, server_version, deleted, local_only, access_count, last_accessed_at`;

/** The text the server indexes and embeds for a memory: summary, the key in words, the content as text. */
export function memoryText(key: string, content: unknown, summary: string | null): string {
  const contentText = [humanizeKey(key), contentToText(content)].filter(Boolean).join('\n');
  return [summary, contentText].filter((part): part is string => Boolean(part)).join('\n');
}

/** An FTS5 query matching any of the words (as the server's search does), stop words left out. */
export function ftsQuery(query: string): string | null {
  return ftsMatch(queryWords(query));
}

/** The distinct words of a query, stop words left out. */
export function queryWords(query: string): string[] {
  return [...new Set(words(normalizeText(query)).filter((w) => !STOPWORDS.has(w)))];
}

function ftsMatch(terms: readonly string[]): string | null {
  return terms.length ? terms.map((w) => `"${w}"`).join(' OR ') : null;
}

/** A word in more than this share of the memories says little about any of them (see #textTerms). */
const COMMON_TERM_SHARE = 0.05;

/**
 * The desktop's local database (better-sqlite3, WAL): memories with their full-text index and
 * vectors, conversations and messages, the outbox of mutations waiting to be pushed, commands
 * waiting for the server, the sync state, the conflict inbox, the tasks the desktop follows and
 * the plans waiting for approval. Every method is synchronous: SQLite answers in microseconds and
 * the store runs off the UI thread.
 */
export class LocalStore {
  readonly db: Db;
  readonly clientId: string;
  readonly #now: () => Date;
  readonly #scoring: ScoringConfig;
  readonly #index = new VectorIndex();
  readonly #accessed = new Set<number>();
  #accessTimer: NodeJS.Immediate | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(path: string, options: LocalStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    this.#now = options.now ?? (() => new Date());
    this.#scoring = options.scoring ?? DEFAULT_SCORING;
    const stored = this.getMeta('clientId');
    this.clientId = stored ?? options.clientId ?? `desktop-${randomUUID()}`;
    if (!stored) this.setMeta('clientId', this.clientId);
    this.#loadIndex();
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** A prepared statement, compiled once per SQL text. */
  #sql(source: string): Database.Statement {
    let statement = this.#statements.get(source);
    if (!statement) {
      statement = this.db.prepare(source);
      this.#statements.set(source, statement);
    }
    return statement;
  }

  close(): void {
    this.#flushAccess();
    this.db.close();
  }

  /** Called after every local write that should be pushed (the sync engine debounces it). */
  onLocalChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  // -------------------------------------------------------------------------------------------
  // Sync state

  getMeta(key: string): string | null {
    const row = this.#sql('select value from meta where key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#sql('insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value').run(
      key,
      value,
    );
  }

  get cursor(): string {
    return this.getMeta('cursor') ?? '0';
  }

  set cursor(value: string) {
    this.setMeta('cursor', value);
  }

  /** The highest mutation id given out so far (the next is one more). */
  get lastMutationId(): number {
    return Number(this.getMeta('lastMutationId') ?? '0');
  }

  /** The highest mutation id the server has confirmed. */
  get ackedMutationId(): number {
    return Number(this.getMeta('ackedMutationId') ?? '0');
  }

  // -------------------------------------------------------------------------------------------
  // Memories

  #loadIndex(): void {
    this.#index.clear();
    const rows = this.#sql(
      `select rowid, agent_id, type, expires_at, vec_coarse, vec_full, vec_scale from memories
       where deleted = 0 and vec_full is not null`,
    ).all() as Array<{
      rowid: number;
      agent_id: string | null;
      type: string;
      expires_at: string | null;
      vec_coarse: Buffer | null;
      vec_full: Buffer;
      vec_scale: number;
    }>;
    for (const row of rows) {
      // A coarse copy of another width (an older build) is folded again from the full vector.
      const coarse =
        row.vec_coarse && row.vec_coarse.byteLength === COARSE_DIMENSIONS * 4
          ? bufferToCoarse(row.vec_coarse)
          : fold(dequantize(row.vec_full, row.vec_scale));
      this.#index.set(row.rowid, coarse, { bytes: row.vec_full, scale: row.vec_scale }, slotMeta(row));
    }
  }

  #toMemory(row: MemoryRow, pending?: boolean): LocalMemory {
    return {
      id: row.id,
      agentId: row.agent_id,
      type: row.type as MemoryType,
      key: row.key,
      content: JSON.parse(row.content),
      summary: row.summary,
      importance: row.importance,
      pinned: row.pinned === 1,
      expiresAt: row.expires_at,
      updatedAt: row.updated_at,
      createdAt: row.created_at,
      serverVersion: row.server_version,
      pending: pending ?? this.#hasPending(row.id),
      accessCount: row.access_count,
    };
  }

  #hasPending(syncId: string): boolean {
    return this.#sql('select 1 from outbox where sync_id = ? limit 1').get(syncId) !== undefined;
  }

  #memoryRowById(id: string): MemoryRow | undefined {
    return this.#sql(`select ${MEMORY_COLUMNS} from memories where id = ?`).get(id) as MemoryRow | undefined;
  }

  #memoryRowByKey(agentId: string | null, type: string, key: string): MemoryRow | undefined {
    return this.#sql(
      `select ${MEMORY_COLUMNS} from memories where coalesce(agent_id, '') = ? and type = ? and key = ? and deleted = 0`,
    ).get(agentId ?? '', type, key) as MemoryRow | undefined;
  }

  getMemory(id: string): LocalMemory | null {
    const row = this.#memoryRowById(id);
    return row && row.deleted === 0 ? this.#toMemory(row) : null;
  }

  getMemoryByKey(type: MemoryType, key: string, agentId: string | null = null): LocalMemory | null {
    const row = this.#memoryRowByKey(agentId, type, key);
    return row ? this.#toMemory(row) : null;
  }

  listMemories(options: { limit?: number; type?: MemoryType } = {}): LocalMemory[] {
    const rows = this.#sql(
      `select ${MEMORY_COLUMNS} from memories where deleted = 0 and (? is null or type = ?)
         order by updated_at desc limit ?`,
    ).all(options.type ?? null, options.type ?? null, options.limit ?? 100) as MemoryRow[];
    return rows.map((row) => this.#toMemory(row));
  }

  countMemories(): number {
    return (this.#sql('select count(*) as n from memories where deleted = 0').get() as { n: number }).n;
  }

  /** Writes the row, its full-text entry and its vectors (no outbox). */
  #writeMemoryRow(
    fields: SyncMemoryData & { id: string; createdAt: string; serverVersion: string | null },
    existing: MemoryRow | undefined,
  ): number {
    const text = memoryText(fields.key, fields.content, fields.summary);
    const full = localEmbedder.embedSync(text);
    const embedded = !isZeroVector(full);
    const coarse = embedded ? fold(full) : null;
    const quantized = embedded ? quantize(full) : null;
    const values = {
      id: fields.id,
      agent_id: fields.agentId,
      type: fields.type,
      key: fields.key,
      content: JSON.stringify(fields.content ?? null),
      summary: fields.summary,
      importance: fields.importance,
      pinned: fields.pinned ? 1 : 0,
      expires_at: fields.expiresAt ? iso(fields.expiresAt) : null,
      updated_at: iso(fields.updatedAt),
      created_at: iso(fields.createdAt),
      server_version: fields.serverVersion,
      vec_coarse: coarse ? coarseToBuffer(coarse) : null,
      vec_full: quantized?.bytes ?? null,
      vec_scale: quantized?.scale ?? null,
    };
    let rowid: number;
    if (existing) {
      rowid = existing.rowid;
      this.#sql(
        `update memories set agent_id = @agent_id, type = @type, key = @key, content = @content, summary = @summary,
             importance = @importance, pinned = @pinned, expires_at = @expires_at, updated_at = @updated_at,
             server_version = @server_version, deleted = 0, vec_coarse = @vec_coarse, vec_full = @vec_full,
             vec_scale = @vec_scale where rowid = @rowid`,
      ).run({ ...values, rowid });
      this.#sql('delete from memory_fts where rowid = ?').run(rowid);
    } else {
      rowid = Number(
        this.#sql(
          `insert into memories (id, agent_id, type, key, content, summary, importance, pinned, expires_at, updated_at,
               created_at, server_version, vec_coarse, vec_full, vec_scale)
             values (@id, @agent_id, @type, @key, @content, @summary, @importance, @pinned, @expires_at, @updated_at,
               @created_at, @server_version, @vec_coarse, @vec_full, @vec_scale)`,
        ).run(values).lastInsertRowid,
      );
    }
    this.#sql('insert into memory_fts (rowid, text) values (?, ?)').run(rowid, text);
    if (coarse && quantized) this.#index.set(rowid, coarse, quantized, slotMeta(values));
    else this.#index.delete(rowid);
    return rowid;
  }

  #removeMemoryRow(row: MemoryRow): void {
    this.#sql('delete from memories where rowid = ?').run(row.rowid);
    this.#sql('delete from memory_fts where rowid = ?').run(row.rowid);
    this.#index.delete(row.rowid);
  }

  /** A local write: creates the memory, or the next state of the one with this id or key. */
  upsertMemory(write: MemoryWrite): LocalMemory {
    const result = this.db.transaction(() => {
      const agentId = write.agentId ?? null;
      const existing = write.id ? this.#memoryRowById(write.id) : this.#memoryRowByKey(agentId, write.type, write.key);
      const now = this.#now().toISOString();
      const id = existing?.id ?? write.id ?? randomUUID();
      const data: SyncMemoryData = {
        agentId: existing && write.agentId === undefined ? existing.agent_id : agentId,
        type: write.type,
        key: write.key,
        content: (write.content ?? null) as SyncMemoryData['content'],
        summary: write.summary !== undefined ? write.summary : (existing?.summary ?? null),
        importance: write.importance ?? existing?.importance ?? 0.5,
        pinned: write.pinned ?? (existing ? existing.pinned === 1 : false),
        expiresAt: write.expiresAt !== undefined ? write.expiresAt : (existing?.expires_at ?? null),
        updatedAt: now,
      };
      this.#writeMemoryRow(
        { ...data, id, createdAt: existing?.created_at ?? now, serverVersion: existing?.server_version ?? null },
        existing,
      );
      this.#enqueue('memory', id, 'upsert', existing?.server_version ?? null, data);
      return this.#toMemory(this.#memoryRowById(id) as MemoryRow, true);
    })();
    this.#changed();
    return result;
  }

  /** A local delete: hidden at once, removed for good once the server has it. */
  deleteMemory(id: string): boolean {
    const deleted = this.db.transaction(() => {
      const row = this.#memoryRowById(id);
      if (!row || row.deleted === 1) return false;
      this.#sql('update memories set deleted = 1 where rowid = ?').run(row.rowid);
      this.#sql('delete from memory_fts where rowid = ?').run(row.rowid);
      this.#index.delete(row.rowid);
      this.#enqueue('memory', id, 'delete', row.server_version, { updatedAt: this.#now().toISOString() });
      return true;
    })();
    if (deleted) this.#changed();
    return deleted;
  }

  /**
   * Local search, ranked as the server ranks: full-text (FTS5, any query word) and vector
   * candidates pooled, each scored on both signals (text rank relative to the best, cosine
   * similarity of the full embedding), then importance, recency and frequency by
   * @ora/retrieval's rankCandidates with the same default weights.
   */
  searchMemories(query: string, options: SearchOptions = {}): SearchHit[] {
    const limit = options.limit ?? 10;
    const now = this.#now();
    const nowIso = now.toISOString();
    const nowMs = now.getTime();
    const full = localEmbedder.embedSync(query);
    const useVector = !isZeroVector(full);
    const match = ftsMatch(this.#textTerms(query));
    const k = Math.min(400, useVector && match ? Math.max(limit * 4, 40) : limit);
    const types = options.types?.length ? new Set<string>(options.types) : null;
    const agentFilter = options.agentId;
    const accept = (meta: SlotMeta) =>
      meta.expiresAt > nowMs &&
      (types === null || types.has(meta.type)) &&
      (agentFilter === undefined || meta.agentId === agentFilter);

    // Text: the best 400 matches by bm25 (FTS5 ranks every match before it can sort, so 400
    // costs about what 40 does); the best k are candidates, and all 400 give the text rank of
    // vector candidates that match too. A row below the 400th counts 0, as a row without the
    // words does: relative to the best match its rank is small either way.
    const textRanks = new Map<number, number>();
    const textCandidates: number[] = [];
    if (match) {
      const filtered = types !== null || agentFilter !== undefined;
      const rows = (
        filtered
          ? this.#sql(
              `select f.rowid as rowid, -bm25(memory_fts) as r from memory_fts f join memories m on m.rowid = f.rowid
               where memory_fts match ? and (? = 0 or coalesce(m.agent_id, '') = ?)
                 and (? is null or m.type in (select value from json_each(?)))
               order by r desc limit 400`,
            ).all(
              match,
              agentFilter === undefined ? 0 : 1,
              agentFilter ?? '',
              types ? 1 : null,
              types ? JSON.stringify([...types]) : '[]',
            )
          : this.#sql(
              'select rowid, -bm25(memory_fts) as r from memory_fts where memory_fts match ? order by r desc limit 400',
            ).all(match)
      ) as Array<{ rowid: number; r: number }>;
      for (const row of rows) {
        textRanks.set(row.rowid, row.r);
        if (textCandidates.length < k) textCandidates.push(row.rowid);
      }
    }
    const candidates = new Set<number>(textCandidates);
    const similarities = new Map<number, number>();
    if (useVector) {
      for (const hit of this.#index.nearest(full, k, accept)) {
        candidates.add(hit.rowid);
        similarities.set(hit.rowid, hit.similarity);
      }
    }
    if (candidates.size === 0) return [];
    const rows = (
      this.#sql(`select ${MEMORY_COLUMNS} from memories where rowid in (select value from json_each(?))`).all(
        JSON.stringify([...candidates]),
      ) as MemoryRow[]
    ).filter((row) => row.deleted === 0 && (row.expires_at === null || row.expires_at > nowIso));
    const ranked = rankCandidates(
      rows.map((row) => ({
        row,
        textRank: match ? (textRanks.get(row.rowid) ?? 0) : null,
        vectorSimilarity: useVector ? (similarities.get(row.rowid) ?? this.#index.similarity(row.rowid, full)) : null,
        importance: row.importance,
        accessCount: row.access_count,
        lastUsedAt: new Date(row.last_accessed_at ?? row.updated_at),
      })),
      this.#scoring,
      now,
    ).slice(0, limit);
    if (options.recordAccess !== false) this.#recordAccess(ranked.map((r) => r.candidate.row.rowid));
    const pendingIds = this.#pendingIds(ranked.map((r) => r.candidate.row.id));
    return ranked.map(({ candidate, score }) => ({
      memory: this.#toMemory(candidate.row, pendingIds.has(candidate.row.id)),
      score,
    }));
  }

  readonly #termCounts = new Map<string, number>();
  #termCountsAt = 0;

  /**
   * The query words the full-text search uses: all of them, except that words found in more than
   * 5% of the memories are left out when rarer ones remain. bm25 weighs such a word close to
   * nothing (its idf is small), but matching it means ranking thousands of rows: on the bench's
   * text-like corpus a query's words match 40% of the memories, and bm25 over them costs several
   * milliseconds. Document counts come from FTS5 and are cached until the memories change by 5%.
   */
  #textTerms(query: string): string[] {
    const terms = queryWords(query);
    const total = this.#index.size || this.countMemories();
    if (terms.length < 2 || total < 200) return terms;
    if (Math.abs(total - this.#termCountsAt) > total * 0.05) {
      this.#termCounts.clear();
      this.#termCountsAt = total;
    }
    const count = this.#sql('select count(*) as n from memory_fts where memory_fts match ?');
    const rare = terms.filter((term) => {
      let n = this.#termCounts.get(term);
      if (n === undefined) {
        n = (count.get(`"${term}"`) as { n: number }).n;
        this.#termCounts.set(term, n);
      }
      return n <= total * COMMON_TERM_SHARE;
    });
    return rare.length ? rare : terms;
  }

  #pendingIds(ids: string[]): Set<string> {
    if (!ids.length) return new Set();
    const rows = this.#sql('select distinct sync_id from outbox where sync_id in (select value from json_each(?))').all(
      JSON.stringify(ids),
    ) as Array<{ sync_id: string }>;
    return new Set(rows.map((r) => r.sync_id));
  }

  /** Access counts are local bookkeeping (not synced); written together, after the search answered. */
  #recordAccess(rowids: number[]): void {
    for (const rowid of rowids) this.#accessed.add(rowid);
    if (!this.#accessTimer && this.#accessed.size) {
      this.#accessTimer = setImmediate(() => this.#flushAccess());
    }
  }

  #flushAccess(): void {
    if (this.#accessTimer) clearImmediate(this.#accessTimer);
    this.#accessTimer = null;
    if (!this.#accessed.size || !this.db.open) return;
    const ids = JSON.stringify([...this.#accessed]);
    this.#accessed.clear();
    this.#sql(
      `update memories set access_count = access_count + 1, last_accessed_at = ?
         where rowid in (select value from json_each(?))`,
    ).run(this.#now().toISOString(), ids);
  }

  // -------------------------------------------------------------------------------------------
  // Conversations and messages

  #toConversation(row: ConversationRow): LocalConversation {
    return {
      id: row.id,
      agentId: row.agent_id,
      title: row.title,
      status: row.status as LocalConversation['status'],
      updatedAt: row.updated_at,
      createdAt: row.created_at,
      serverVersion: row.server_version,
      messageCount: row.n,
    };
  }

  getConversation(id: string): LocalConversation | null {
    const row = this.#sql(
      `select c.*, (select count(*) from messages m where m.conversation_id = c.id) as n
         from conversations c where c.id = ? and c.deleted = 0`,
    ).get(id) as ConversationRow | undefined;
    return row ? this.#toConversation(row) : null;
  }

  listConversations(limit = 100): LocalConversation[] {
    const rows = this.#sql(
      `select c.*, (select count(*) from messages m where m.conversation_id = c.id) as n
         from conversations c where c.deleted = 0 order by c.updated_at desc limit ?`,
    ).all(limit) as Array<ConversationRow>;
    return rows.map((row) => this.#toConversation(row));
  }

  createConversation(fields: { id?: string; title?: string | null; agentId?: string | null } = {}): LocalConversation {
    const id = fields.id ?? randomUUID();
    this.db.transaction(() => {
      const now = this.#now().toISOString();
      const data: SyncConversationData = {
        agentId: fields.agentId ?? null,
        title: fields.title ?? null,
        status: 'active',
        updatedAt: now,
      };
      this.#sql(
        `insert into conversations (id, agent_id, title, status, updated_at, created_at) values (?, ?, ?, ?, ?, ?)`,
      ).run(id, data.agentId, data.title, data.status, now, now);
      this.#enqueue('conversation', id, 'upsert', null, data);
    })();
    this.#changed();
    return this.getConversation(id) as LocalConversation;
  }

  updateConversation(id: string, fields: { title?: string | null; status?: LocalConversation['status'] }): void {
    this.db.transaction(() => {
      const row = this.#sql('select * from conversations where id = ?').get(id) as
        | { agent_id: string | null; title: string | null; status: string; server_version: string | null }
        | undefined;
      if (!row) return;
      const now = this.#now().toISOString();
      const data: SyncConversationData = {
        agentId: row.agent_id,
        title: fields.title !== undefined ? fields.title : row.title,
        status: (fields.status ?? row.status) as SyncConversationData['status'],
        updatedAt: now,
      };
      this.#sql('update conversations set title = ?, status = ?, updated_at = ? where id = ?').run(
        data.title,
        data.status,
        now,
        id,
      );
      this.#enqueue('conversation', id, 'upsert', row.server_version, data);
    })();
    this.#changed();
  }

  #toMessage(row: MessageRow): LocalMessage {
    return {
      id: row.id,
      conversationId: row.conversation_id,
      role: row.role as LocalMessage['role'],
      content: row.content,
      metadata: JSON.parse(row.metadata),
      createdAt: row.created_at,
      synced: row.seq !== null,
    };
  }

  /** Adds a message to a conversation (a local write: it is appended on the server by sync). */
  appendMessage(
    conversationId: string,
    message: { id?: string; role: LocalMessage['role']; content: string; metadata?: Record<string, unknown> },
  ): LocalMessage {
    const result = this.db.transaction(() => {
      // Every replica orders a thread by createdAt, then id: a message written in the same
      // millisecond as the previous one is stamped a millisecond later, so it stays after it.
      const last = this.#sql('select max(created_at) as t from messages where conversation_id = ?').get(
        conversationId,
      ) as {
        t: string | null;
      };
      const clock = this.#now().getTime();
      const now = new Date(last.t && Date.parse(last.t) >= clock ? Date.parse(last.t) + 1 : clock).toISOString();
      const stored: SyncMessage = {
        id: message.id ?? randomUUID(),
        role: message.role,
        content: message.content,
        metadata: message.metadata ?? {},
        createdAt: now,
      };
      const conversation = this.#sql('select agent_id, server_version from conversations where id = ?').get(
        conversationId,
      ) as { agent_id: string | null; server_version: string | null } | undefined;
      if (!conversation) throw new Error(`no conversation ${conversationId} in the local store`);
      this.#insertMessage(conversationId, stored, null);
      this.#sql('update conversations set updated_at = ? where id = ?').run(now, conversationId);
      this.#enqueue('conversation', conversationId, 'append', conversation.server_version, {
        agentId: conversation.agent_id,
        messages: [stored],
      });
      return this.getMessage(conversationId, stored.id) as LocalMessage;
    })();
    this.#changed();
    return result;
  }

  /** Changes a message's metadata locally (plan status and the like); not synced again. */
  updateMessageMetadata(conversationId: string, id: string, metadata: Record<string, unknown>): LocalMessage | null {
    this.#sql('update messages set metadata = ? where conversation_id = ? and id = ?').run(
      JSON.stringify(metadata),
      conversationId,
      id,
    );
    return this.getMessage(conversationId, id);
  }

  #insertMessage(conversationId: string, message: SyncMessage, seq: string | null): boolean {
    const inserted = this.#sql(
      `insert into messages (conversation_id, id, role, content, metadata, created_at, seq)
       values (?, ?, ?, ?, ?, ?, ?) on conflict (conversation_id, id) do update set seq = coalesce(excluded.seq, seq)`,
    ).run(
      conversationId,
      message.id,
      message.role,
      message.content,
      JSON.stringify(message.metadata ?? {}),
      iso(message.createdAt),
      seq,
    );
    return inserted.changes > 0;
  }

  getMessage(conversationId: string, id: string): LocalMessage | null {
    const row = this.#sql('select * from messages where conversation_id = ? and id = ?').get(conversationId, id);
    return row ? this.#toMessage(row as MessageRow) : null;
  }

  listMessages(conversationId: string, limit = 200): LocalMessage[] {
    const rows = this.#sql(
      // Every replica orders a thread the same way: by createdAt, then id.
      `select * from (select * from messages where conversation_id = ? order by created_at desc, id desc limit ?)
         order by created_at, id`,
    ).all(conversationId, limit) as Array<MessageRow>;
    return rows.map((row) => this.#toMessage(row));
  }

  // -------------------------------------------------------------------------------------------
  // The outbox

  /**
   * Queues a mutation with the next mutation id, in the caller's transaction, based on the
   * server version the client has of the row now. A mutation not sent yet that is the row's last
   * one takes the new state instead (an upsert replaced, messages appended, its base kept), so
   * editing a memory ten times offline pushes one mutation; ids keep no gaps.
   */
  #enqueue(
    entity: 'memory' | 'conversation',
    syncId: string,
    action: OutboxEntry['action'],
    baseVersion: string | null,
    data: unknown,
  ): void {
    const last = this.#sql(
      'select mutation_id, action, data, sent from outbox where sync_id = ? order by mutation_id desc limit 1',
    ).get(syncId) as { mutation_id: number; action: string; data: string; sent: number } | undefined;
    if (last && last.sent === 0) {
      if (action === 'append' && last.action === 'append') {
        const merged = JSON.parse(last.data) as { messages: SyncMessage[] };
        const added = (data as { messages: SyncMessage[] }).messages;
        if (merged.messages.length + added.length <= 500) {
          merged.messages.push(...added);
          this.#sql('update outbox set data = ? where mutation_id = ?').run(JSON.stringify(merged), last.mutation_id);
          return;
        }
      } else if (action !== 'append' && last.action !== 'append') {
        this.#sql('update outbox set action = ?, data = ? where mutation_id = ?').run(
          action,
          JSON.stringify(data),
          last.mutation_id,
        );
        return;
      }
    }
    const mutationId = this.takeMutationId();
    this.#sql(
      `insert into outbox (mutation_id, entity, sync_id, action, base_version, data, created_at)
       values (?, ?, ?, ?, ?, ?, ?)`,
    ).run(mutationId, entity, syncId, action, baseVersion, JSON.stringify(data), this.#now().toISOString());
  }

  /** The next mutation id (call inside the transaction that queues the mutation). */
  takeMutationId(): number {
    const mutationId = this.lastMutationId + 1;
    this.setMeta('lastMutationId', String(mutationId));
    return mutationId;
  }

  outboxSize(): number {
    return (this.#sql('select count(*) as n from outbox').get() as { n: number }).n;
  }

  outbox(limit = 1000): OutboxEntry[] {
    const rows = this.#sql(
      'select mutation_id, entity, sync_id, action, base_version, data, sent from outbox order by mutation_id limit ?',
    ).all(limit) as Array<{
      mutation_id: number;
      entity: string;
      sync_id: string;
      action: string;
      base_version: string | null;
      data: string;
      sent: number;
    }>;
    return rows.map((r) => ({
      mutationId: r.mutation_id,
      entity: r.entity as OutboxEntry['entity'],
      syncId: r.sync_id,
      action: r.action as OutboxEntry['action'],
      baseVersion: r.base_version,
      data: JSON.parse(r.data),
      sent: r.sent === 1,
    }));
  }

  /** The outbox as the sync client sends it; what it hands out is marked sent (no longer merged into). */
  pendingMutations(limit: number): PendingMutation[] {
    return this.db.transaction(() => {
      const entries = this.outbox(limit);
      const last = entries.at(-1);
      if (last) this.#sql('update outbox set sent = 1 where mutation_id <= ? and sent = 0').run(last.mutationId);
      return entries.map(
        (e) =>
          ({
            entity: e.entity,
            mutation: {
              syncId: e.syncId,
              mutationId: e.mutationId,
              action: e.action,
              baseVersion: e.baseVersion,
              data: e.data,
            },
          }) as PendingMutation,
      );
    })();
  }

  /**
   * The server answered these mutations: they leave the outbox. A plain success (no later
   * mutation of the row waiting) gives the row the version the server wrote; a refused one
   * leaves the row local-only; a local delete the server has taken is removed for good. After a
   * conflict the next pull brings the outcome.
   */
  ackMutations(results: readonly SyncMutationResult[]): void {
    this.db.transaction(() => {
      let highest = this.ackedMutationId;
      for (const result of results) {
        const entry = this.#sql('select entity, sync_id from outbox where mutation_id = ?').get(result.mutationId) as
          | { entity: string; sync_id: string }
          | undefined;
        if (!entry) continue;
        this.#sql('delete from outbox where mutation_id = ?').run(result.mutationId);
        highest = Math.max(highest, result.mutationId);
        const status = result.status === 'replayed' ? (result.replayedStatus ?? 'replayed') : result.status;
        const table = entry.entity === 'memory' ? 'memories' : 'conversations';
        const pending = this.#hasPending(entry.sync_id);
        if (status === 'refused') {
          this.#sql(`update ${table} set local_only = 1 where id = ?`).run(entry.sync_id);
          continue;
        }
        if (entry.entity === 'memory' && !pending) {
          const row = this.#memoryRowById(entry.sync_id);
          if (row?.deleted === 1) {
            this.#removeMemoryRow(row);
            continue;
          }
        }
        if (status !== 'applied' || result.serverVersion === null || pending) continue;
        this.#sql(`update ${table} set server_version = ? where id = ?`).run(result.serverVersion, entry.sync_id);
      }
      this.setMeta('ackedMutationId', String(highest));
    })();
  }

  /** After a gap refusal: pending mutations above the server's last id follow it, in order. */
  renumberPending(lastMutationId: number): void {
    this.db.transaction(() => {
      const rows = this.#sql('select mutation_id from outbox where mutation_id > ? order by mutation_id').all(
        lastMutationId,
      ) as Array<{ mutation_id: number }>;
      // Two passes (negative first) so no renumbered id meets one not moved yet.
      for (const row of rows)
        this.#sql('update outbox set mutation_id = ? where mutation_id = ?').run(-row.mutation_id, row.mutation_id);
      let next = lastMutationId;
      for (const row of rows)
        this.#sql('update outbox set mutation_id = ? where mutation_id = ?').run(++next, -row.mutation_id);
      this.setMeta('lastMutationId', String(Math.max(next, lastMutationId)));
    })();
  }

  // -------------------------------------------------------------------------------------------
  // Applying the server's state

  #pendingActions(syncId: string): Set<string> {
    const rows = this.#sql('select action from outbox where sync_id = ?').all(syncId) as Array<{ action: string }>;
    return new Set(rows.map((r) => r.action));
  }

  /** A memory as the server has it; a row with a local change still to push keeps its value. */
  applyServerMemory(memory: SyncPulledMemory): void {
    if (this.#hasPending(memory.id)) return;
    const existing = this.#memoryRowById(memory.id);
    // The server holds one live memory per owner, type and key: a local one under another id
    // with nothing to push is an older copy of it.
    const twin = this.#memoryRowByKey(memory.agentId, memory.type, memory.key);
    if (twin && twin.id !== memory.id && !this.#hasPending(twin.id)) this.#removeMemoryRow(twin);
    this.#writeMemoryRow(
      { ...memory, createdAt: existing?.created_at ?? memory.createdAt, serverVersion: memory.serverVersion },
      existing,
    );
    if (existing?.local_only) this.#sql('update memories set local_only = 0 where id = ?').run(memory.id);
  }

  /**
   * A conversation as the server has it: a pending local delete skips it, a pending upsert keeps
   * the local fields; messages are always a union by id.
   */
  applyServerConversation(conversation: SyncPulledConversation): void {
    const pending = this.#pendingActions(conversation.id);
    if (pending.has('delete')) return;
    const existing = this.#sql('select id from conversations where id = ?').get(conversation.id);
    if (!existing) {
      this.#sql(
        `insert into conversations (id, agent_id, title, status, updated_at, created_at, server_version)
         values (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        conversation.id,
        conversation.agentId,
        conversation.title,
        conversation.status,
        iso(conversation.updatedAt),
        iso(conversation.createdAt),
        pending.size > 0 ? null : conversation.serverVersion,
      );
    } else if (!pending.has('upsert')) {
      this.#sql(
        `update conversations set agent_id = ?, title = ?, status = ?, updated_at = ?, deleted = 0, local_only = 0,
           server_version = case when ? then server_version else ? end
         where id = ?`,
      ).run(
        conversation.agentId,
        conversation.title,
        conversation.status,
        iso(conversation.updatedAt),
        pending.size > 0 ? 1 : 0,
        conversation.serverVersion,
        conversation.id,
      );
    }
    for (const message of conversation.messages) this.#insertMessage(conversation.id, message, message.seq);
  }

  applyTombstone(tombstone: SyncTombstone): void {
    if (this.#hasPending(tombstone.id)) return;
    if (tombstone.type === 'memory') {
      const row = this.#memoryRowById(tombstone.id);
      if (row) this.#removeMemoryRow(row);
    } else {
      this.#sql('delete from messages where conversation_id = ?').run(tombstone.id);
      this.#sql('delete from conversations where id = ?').run(tombstone.id);
    }
  }

  /** One page of sync.pull, in one transaction (the cursor is stored by the caller after it). */
  applyPulledPage(page: Pick<SyncPullOutput, 'memories' | 'conversations' | 'tombstones'>): void {
    this.db.transaction(() => {
      for (const memory of page.memories) this.applyServerMemory(memory);
      for (const conversation of page.conversations) this.applyServerConversation(conversation);
      for (const tombstone of page.tombstones) this.applyTombstone(tombstone);
    })();
  }

  // -------------------------------------------------------------------------------------------
  // Conflict inbox

  saveConflict(conflict: SyncConflict): void {
    this.#sql(
      `insert into conflicts (id, status, created_at, data) values (?, ?, ?, ?)
         on conflict (id) do update set status = excluded.status, data = excluded.data`,
    ).run(conflict.id, conflict.status, conflict.createdAt, JSON.stringify(conflict));
  }

  getConflict(id: string): SyncConflict | null {
    const row = this.#sql('select data from conflicts where id = ?').get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as SyncConflict) : null;
  }

  listConflicts(status?: 'pending' | 'resolved'): SyncConflict[] {
    const rows = this.#sql(
      'select data from conflicts where (? is null or status = ?) order by created_at desc limit 500',
    ).all(status ?? null, status ?? null) as Array<{ data: string }>;
    return rows.map((r) => JSON.parse(r.data) as SyncConflict);
  }

  countPendingConflicts(): number {
    return (this.#sql("select count(*) as n from conflicts where status = 'pending'").get() as { n: number }).n;
  }

  // -------------------------------------------------------------------------------------------
  // Commands waiting for the server

  enqueueCommand(command: {
    conversationId: string | null;
    action: string;
    data: unknown;
    id?: string;
  }): PendingCommand {
    const id = command.id ?? randomUUID();
    const now = this.#now().toISOString();
    this.#sql(
      `insert into commands (id, conversation_id, action, data, status, created_at, updated_at)
         values (?, ?, ?, ?, 'pending', ?, ?)`,
    ).run(id, command.conversationId, command.action, JSON.stringify(command.data ?? {}), now, now);
    return this.getCommand(id) as PendingCommand;
  }

  getCommand(id: string): (PendingCommand & { result: unknown }) | null {
    const row = this.#sql('select * from commands where id = ?').get(id) as
      | {
          id: string;
          conversation_id: string | null;
          action: string;
          data: string;
          status: string;
          attempts: number;
          error: string | null;
          result: string | null;
          created_at: string;
        }
      | undefined;
    if (!row) return null;
    return {
      id: row.id,
      conversationId: row.conversation_id,
      action: row.action,
      data: JSON.parse(row.data),
      status: row.status as PendingCommand['status'],
      attempts: row.attempts,
      error: row.error,
      createdAt: row.created_at,
      result: row.result === null ? null : JSON.parse(row.result),
    };
  }

  listCommands(status?: PendingCommand['status']): PendingCommand[] {
    const rows = this.#sql(
      'select id from commands where (? is null or status = ?) order by created_at, rowid limit 500',
    ).all(status ?? null, status ?? null) as Array<{ id: string }>;
    return rows.map((r) => this.getCommand(r.id) as PendingCommand);
  }

  markCommandAttempt(id: string, error: string | null): void {
    this.#sql('update commands set attempts = attempts + 1, error = ?, updated_at = ? where id = ?').run(
      error,
      this.#now().toISOString(),
      id,
    );
  }

  finishCommand(id: string, outcome: { result: unknown } | { error: string }): void {
    const failed = 'error' in outcome;
    this.#sql('update commands set status = ?, result = ?, error = ?, updated_at = ? where id = ?').run(
      failed ? 'failed' : 'done',
      failed ? null : JSON.stringify(outcome.result ?? null),
      failed ? outcome.error : null,
      this.#now().toISOString(),
      id,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Tasks followed and plans waiting for approval

  saveTask(task: TrackedTask): TrackedTask {
    const existing = this.getTask(task.id);
    const merged: TrackedTask = existing
      ? { ...existing, ...task, conversationId: task.conversationId ?? existing.conversationId }
      : task;
    this.#sql(
      `insert into tasks (id, data, updated_at) values (?, ?, ?)
         on conflict (id) do update set data = excluded.data, updated_at = excluded.updated_at`,
    ).run(task.id, JSON.stringify(merged), merged.updatedAt);
    return merged;
  }

  getTask(id: string): TrackedTask | null {
    const row = this.#sql('select data from tasks where id = ?').get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as TrackedTask) : null;
  }

  listTasks(limit = 100): TrackedTask[] {
    const rows = this.#sql('select data from tasks order by updated_at desc limit ?').all(limit) as Array<{
      data: string;
    }>;
    return rows.map((r) => JSON.parse(r.data) as TrackedTask);
  }

  savePlan(plan: ProposedPlan): void {
    this.#sql(
      `insert into plans (id, status, data) values (?, ?, ?)
         on conflict (id) do update set status = excluded.status, data = excluded.data`,
    ).run(plan.id, plan.status, JSON.stringify(plan));
  }

  getPlan(id: string): ProposedPlan | null {
    const row = this.#sql('select data from plans where id = ?').get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as ProposedPlan) : null;
  }

  listPlans(status?: ProposedPlan['status']): ProposedPlan[] {
    const rows = this.#sql('select data from plans where (? is null or status = ?) order by rowid desc limit 100').all(
      status ?? null,
      status ?? null,
    ) as Array<{ data: string }>;
    return rows.map((r) => JSON.parse(r.data) as ProposedPlan);
  }
}

function dequantize(bytes: Uint8Array, scale: number): Float32Array {
  const signed = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from(signed, (v) => v * scale);
}

function slotMeta(row: { agent_id: string | null; type: string; expires_at: string | null }): SlotMeta {
  return {
    agentId: row.agent_id,
    type: row.type,
    expiresAt: row.expires_at ? Date.parse(row.expires_at) : Number.POSITIVE_INFINITY,
  };
}
