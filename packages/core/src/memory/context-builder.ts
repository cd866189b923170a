import { type MemoryType, OraError, type ScoreBreakdown, type SearchMode } from '@ora/contracts';
import {
  type BudgetItem,
  contentToText,
  loadTokenCounter,
  MESSAGE_OVERHEAD_TOKENS,
  packGreedy,
  packPrefix,
  rankCandidates,
} from '@ora/retrieval';
import { sql } from 'kysely';
import { latestMessages } from '../conversations/conversations.service';
import { systemActor } from '../shared/deps';
import type { MemoryDeps } from './memory.deps';
import { type MemoryView, ORA_OWNER, openFields, VIEW_COLUMNS } from './memory.repository';
import { type ScoredMemoryRow, searchMemoryRows } from './memory.search';
import { ownerExpr } from './memory.service';

export interface ContextRequest {
  /** Whose memories and conversation: an agent's id, or null for ORA's own. */
  agentId: string | null;
  /**
   * What the context is for. Default: the task's title and description (with `taskId`), else
   * the conversation's last user message; with none of these, memories rank by importance and
   * recency alone.
   */
  query?: string | undefined;
  taskId?: string | undefined;
  conversationId?: string | undefined;
  /** Tokens (o200k_base) the memories, summary and messages may take together. */
  tokenBudget: number;
  /** Share of the budget held for the conversation (default 0.5); what one side leaves, the other uses. */
  conversationShare?: number;
  /** Memories considered (default 20). */
  maxMemories?: number;
  types?: readonly MemoryType[];
  /** Memories scoring below this are left out (default 0: none). */
  minScore?: number;
  /** With a query, memories less relevant than this are left out (default 0.1). */
  minRelevance?: number;
  /** One memory takes at most this many tokens; a longer one is cut (default 400). */
  maxMemoryTokens?: number;
  /** Latest messages loaded (default 200); older ones are represented by the summary. */
  maxMessages?: number;
}

export interface ContextMemory {
  id: string;
  type: MemoryType;
  key: string;
  /** One line for the prompt: `[type] key: summary or content`. */
  text: string;
  tokens: number;
  truncated: boolean;
  score: ScoreBreakdown;
}

export interface ContextMessage {
  id: string;
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  seq: string;
  tokens: number;
}

export type OmitReason =
  /** It did not fit in what was left of the budget. */
  | 'over_budget'
  /** Its score was below `minScore`. */
  | 'low_score'
  /** Its relevance to the query was below `minRelevance`. */
  | 'low_relevance'
  /** An older message the conversation summary stands for (it was left out for budget). */
  | 'summarized';

export interface OmittedItem {
  kind: 'memory' | 'message' | 'summary';
  id: string;
  reason: OmitReason;
  tokens: number;
}

export interface BuiltContext {
  query: string | null;
  /** How memories were found (null: no query, ranked by importance and recency). */
  searchMode: SearchMode | null;
  /** Best first. */
  memories: ContextMemory[];
  /** The memories as prompt text, one line each. */
  memoryText: string;
  summary: { text: string; tokens: number; throughSeq: string | null } | null;
  /** Oldest first; always the latest ones, without gaps. */
  messages: ContextMessage[];
  omitted: OmittedItem[];
  /** Messages older than the ones loaded (`maxMessages`), not looked at; the summary covers them if any. */
  olderMessages: number;
  tokens: { budget: number; used: number; memories: number; summary: number; messages: number };
}

type ContextDeps = Pick<MemoryDeps, 'db' | 'clock' | 'log' | 'memory'>;

/**
 * The context for one step of an agent: the memories most relevant to the task or query and the
 * latest messages of the conversation, packed into a token budget (counted with a real
 * tokenizer), with what was left out and why. Memories the context uses count as accessed.
 */
export async function buildContext(deps: ContextDeps, request: ContextRequest): Promise<BuiltContext> {
  const budget = Math.max(0, Math.floor(request.tokenBudget));
  const counter = await loadTokenCounter();
  const maxMemoryTokens = request.maxMemoryTokens ?? 400;
  const omitted: OmittedItem[] = [];

  // The conversation: the latest messages and the summary of the ones before.
  const conversation = request.conversationId
    ? await deps.db
        .selectFrom('agent_conversations')
        .select(['id', 'agent_id', 'summary', 'summary_through_seq', 'summary_token_count', 'message_count'])
        .where('id', '=', request.conversationId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst()
    : undefined;
  if (request.conversationId && (!conversation || conversation.agent_id !== request.agentId)) {
    throw new OraError({ code: 'NOT_FOUND', message: `No conversation ${request.conversationId} of this agent` });
  }
  const loaded = conversation
    ? await latestMessages(deps.db, conversation.id, request.maxMessages ?? 200)
    : { messages: [], hasMore: false };

  const query = request.query?.trim() || (await queryFor(deps, request, loaded.messages)) || null;

  // Memory candidates, best first.
  const limit = request.maxMemories ?? 20;
  let searchMode: SearchMode | null = null;
  let scored: ScoredMemoryRow[];
  if (query) {
    const found = await searchMemoryRows(deps, systemActor, {
      query,
      agentId: request.agentId,
      types: request.types,
      limit,
      recordAccess: false,
    });
    searchMode = found.mode;
    scored = found.hits;
  } else {
    scored = await memoriesWithoutQuery(deps, request, limit);
  }

  const memoryItems: Array<BudgetItem<ContextMemory>> = [];
  const minRelevance = query ? (request.minRelevance ?? 0.1) : 0;
  for (const { row, score } of scored) {
    const line = memoryLine(row, deps.memory.settings.encryptionKey);
    let text = line;
    let tokens = counter.count(line);
    const truncated = tokens > maxMemoryTokens;
    if (truncated) {
      text = `${counter.truncate(line, maxMemoryTokens - 1)}…`;
      tokens = counter.count(text);
    }
    tokens += 1; // the line break
    const reason: OmitReason | null =
      score.relevance < minRelevance ? 'low_relevance' : score.total < (request.minScore ?? 0) ? 'low_score' : null;
    if (reason) {
      omitted.push({ kind: 'memory', id: row.id, reason, tokens });
      continue;
    }
    memoryItems.push({
      item: { id: row.id, type: row.memory_type, key: row.key, text, tokens, truncated, score },
      tokens,
    });
  }

  // Memories first within their share; the conversation gets the rest.
  const share = Math.min(1, Math.max(0, request.conversationShare ?? (conversation ? 0.5 : 0)));
  const memoryBudget = budget - Math.floor(budget * share);
  const firstPass = packGreedy(memoryItems, memoryBudget);
  let left = budget - firstPass.used;

  const messageItems: Array<BudgetItem<ContextMessage>> = loaded.messages
    .map((m) => ({
      item: {
        id: m.id,
        role: m.role,
        content: m.content,
        seq: String(m.seq),
        tokens: (m.token_count ?? counter.count(m.content)) + MESSAGE_OVERHEAD_TOKENS,
      },
      tokens: (m.token_count ?? counter.count(m.content)) + MESSAGE_OVERHEAD_TOKENS,
    }))
    .reverse(); // newest first
  const allMessageTokens = messageItems.reduce((n, m) => n + m.tokens, 0);
  const olderMessages = conversation ? Math.max(0, conversation.message_count - loaded.messages.length) : 0;

  // The summary stands in for what is left out: worth its tokens only when something is.
  let summary: BuiltContext['summary'] = null;
  if (conversation?.summary && (allMessageTokens > left || olderMessages > 0)) {
    const tokens = counter.count(conversation.summary) + MESSAGE_OVERHEAD_TOKENS;
    if (tokens <= Math.floor(left / 2) || tokens <= left - Math.min(allMessageTokens, left)) {
      summary = {
        text: conversation.summary,
        tokens,
        throughSeq: conversation.summary_through_seq === null ? null : String(conversation.summary_through_seq),
      };
      left -= tokens;
    } else {
      omitted.push({ kind: 'summary', id: conversation.id, reason: 'over_budget', tokens });
    }
  }
  const messagePack = packPrefix(messageItems, left);
  left -= messagePack.used;
  for (const { item, tokens } of messagePack.left) {
    const covered = summary?.throughSeq != null && BigInt(item.seq) <= BigInt(summary.throughSeq);
    omitted.push({ kind: 'message', id: item.id, reason: covered ? 'summarized' : 'over_budget', tokens });
  }

  // What the conversation did not need goes to the memories that did not fit before.
  const secondPass = packGreedy(firstPass.left, left);
  left -= secondPass.used;
  for (const { item, tokens } of secondPass.left)
    omitted.push({ kind: 'memory', id: item.id, reason: 'over_budget', tokens });

  const memories = [...firstPass.kept, ...secondPass.kept]
    .map((m) => m.item)
    .sort((a, b) => b.score.total - a.score.total);
  if (memories.length > 0)
    deps.memory.access.record(
      memories.map((m) => m.id),
      deps.clock.now(),
    );
  const memoryTokens = firstPass.used + secondPass.used;
  const summaryTokens = summary?.tokens ?? 0;
  return {
    query,
    searchMode,
    memories,
    memoryText: memories.map((m) => m.text).join('\n'),
    summary,
    messages: messagePack.kept.map((m) => m.item).reverse(),
    omitted,
    olderMessages,
    tokens: {
      budget,
      used: memoryTokens + summaryTokens + messagePack.used,
      memories: memoryTokens,
      summary: summaryTokens,
      messages: messagePack.used,
    },
  };
}

/** The query a context is for when none is given: the task, else the last thing the user said. */
async function queryFor(
  deps: ContextDeps,
  request: ContextRequest,
  messages: ReadonlyArray<{ role: string; content: string }>,
): Promise<string | null> {
  if (request.taskId) {
    const task = await deps.db
      .selectFrom('agent_tasks')
      .select(['title', 'description', 'input', 'assigned_to'])
      .where('id', '=', request.taskId)
      .executeTakeFirst();
    if (!task || (request.agentId !== null && task.assigned_to !== request.agentId)) {
      throw new OraError({ code: 'NOT_FOUND', message: `No task ${request.taskId} of this agent` });
    }
    const input = contentToText(task.input);
    return [task.title, task.description, input].filter(Boolean).join('\n').slice(0, 2000);
  }
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return lastUser ? lastUser.content.slice(0, 2000) : null;
}

/** With no query: the agent's live memories by importance, recency and use. */
async function memoriesWithoutQuery(
  deps: ContextDeps,
  request: ContextRequest,
  limit: number,
): Promise<ScoredMemoryRow[]> {
  const now = deps.clock.now();
  let query = deps.db
    .selectFrom('agent_memory')
    .select(VIEW_COLUMNS)
    .where(ownerExpr, '=', request.agentId ?? ORA_OWNER)
    .where('deleted_at', 'is', null)
    .where('is_archived', '=', false)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('is_pinned', 'desc')
    .orderBy('importance', 'desc')
    .orderBy(sql`coalesce(last_accessed_at, updated_at)`, 'desc')
    .limit(limit * 3);
  if (request.types?.length) query = query.where('memory_type', 'in', [...request.types]);
  const rows = await query.execute();
  return rankCandidates(
    rows.map((row) => ({
      row,
      textRank: null,
      vectorSimilarity: null,
      importance: Number(row.importance),
      accessCount: row.access_count,
      lastUsedAt: row.last_accessed_at ?? row.updated_at,
    })),
    deps.memory.settings.scoring,
    now,
    { withRelevance: false },
  )
    .slice(0, limit)
    .map(({ candidate, score }) => ({ row: candidate.row, score }));
}

function memoryLine(row: MemoryView, key: Buffer | null): string {
  const fields = openFields(row, key);
  const body = fields.summary ?? (typeof fields.content === 'string' ? fields.content : contentToText(fields.content));
  return `[${row.memory_type}] ${row.key}: ${body.replace(/\s*\n\s*/g, ' ').trim()}`;
}
