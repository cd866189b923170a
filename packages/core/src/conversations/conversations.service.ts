import { randomUUID } from 'node:crypto';
import {
  type ActionData,
  type ActionOutput,
  type Conversation,
  type ConversationMessage,
  type MessageInput,
  OraError,
} from '@ora/contracts';
import type { ConversationMessageRow, ConversationRow } from '@ora/db';
import { extractiveSummary, loadTokenCounter } from '@ora/retrieval';
import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import { enqueueJob } from '../jobs/catalog';
import type { MemoryDeps } from '../memory/memory.deps';
import { resolveOwner } from '../memory/memory.service';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import { type Actor, type DbOrTx, systemActor } from '../shared/deps';

/** Conversations use the memory deps: the database, the queue (background summaries) and settings. */
export type ConversationDeps = Pick<MemoryDeps, 'db' | 'clock' | 'log' | 'queue' | 'memory'>;

export function conversationRowToConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    agentId: row.agent_id,
    title: row.title,
    summary: row.summary,
    summaryThroughSeq: row.summary_through_seq === null ? null : String(row.summary_through_seq),
    status: row.status,
    messageCount: row.message_count,
    tokenCount: row.token_count,
    version: row.version,
    serverVersion: String(row.server_version),
    source: row.source,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function messageRowToMessage(row: ConversationMessageRow): ConversationMessage {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: String(row.seq),
    role: row.role,
    content: row.content,
    metadata: (row.metadata ?? {}) as Record<string, unknown>,
    tokenCount: row.token_count ?? 0,
    createdAt: row.created_at.toISOString(),
  };
}

export async function findConversationRow(
  db: DbOrTx,
  actor: Actor,
  id: string,
  forUpdate = false,
): Promise<ConversationRow> {
  let query = db.selectFrom('agent_conversations').selectAll().where('id', '=', id).where('deleted_at', 'is', null);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No conversation with id ${id}` });
  return row;
}

const bump = {
  version: sql<number>`version + 1`,
  server_version: sql<string>`nextval('sync_version_seq')`,
  updated_at: sql<Date>`now()`,
};

/**
 * Inserts messages in order (ids not already in the conversation), then brings the counts, the
 * version and the sync position up to date in the same transaction.
 */
async function insertMessages(
  trx: DbOrTx,
  conversation: ConversationRow,
  messages: readonly MessageInput[],
): Promise<{ row: ConversationRow; appended: ConversationMessageRow[]; duplicates: string[] }> {
  const counter = await loadTokenCounter();
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const fresh: Array<MessageInput & { id: string }> = [];
  for (const message of messages) {
    const id = message.id ?? randomUUID();
    if (seen.has(id)) {
      duplicates.push(id);
      continue;
    }
    seen.add(id);
    fresh.push({ ...message, id });
  }
  const appended: ConversationMessageRow[] = [];
  if (fresh.length > 0) {
    // One statement per message keeps seq in input order (a multi-row insert does not promise it).
    for (const message of fresh) {
      const row = await trx
        .insertInto('conversation_messages')
        .values({
          conversation_id: conversation.id,
          id: message.id,
          role: message.role,
          content: message.content,
          metadata: JSON.stringify(message.metadata ?? {}),
          token_count: counter.count(message.content),
        })
        .onConflict((oc) => oc.columns(['conversation_id', 'id']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row) appended.push(row);
      else duplicates.push(message.id);
    }
  }
  if (appended.length === 0) return { row: conversation, appended, duplicates };
  const tokens = appended.reduce((n, m) => n + (m.token_count ?? 0), 0);
  const row = await trx
    .updateTable('agent_conversations')
    .set({
      ...bump,
      message_count: sql<number>`message_count + ${appended.length}`,
      token_count: sql<number>`token_count + ${tokens}`,
    })
    .where('id', '=', conversation.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, appended, duplicates };
}

export async function createConversation(
  deps: ConversationDeps,
  actor: Actor,
  input: ActionData<'conversations.create'>,
): Promise<ActionOutput<'conversations.create'>> {
  const owner = resolveOwner(actor, input.agentId);
  try {
    const result = await deps.db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('agent_conversations')
        .values({
          ...(input.id ? { id: input.id } : {}),
          agent_id: owner,
          title: input.title ?? null,
          source: input.source ?? 'server',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const inserted = await insertMessages(trx, created, input.messages ?? []);
      await recordAudit(trx, actor, {
        action: 'conversations.create',
        targetType: 'conversation',
        targetId: created.id,
        details: { agentId: owner, messages: inserted.appended.length },
      });
      return inserted;
    });
    await maybeSummarizeLater(deps, result.row);
    return {
      conversation: conversationRowToConversation(result.row),
      messages: result.appended.map(messageRowToMessage),
      hasMore: false,
    };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === '23505') {
      throw new OraError({ code: 'CONFLICT', message: `A conversation with id ${input.id} exists already` });
    }
    if (e.code === '23503') throw new OraError({ code: 'VALIDATION_ERROR', message: `No agent with id ${owner}` });
    throw error;
  }
}

/** The latest messages of a conversation, oldest first (before `beforeSeq` when given). */
export async function latestMessages(
  db: DbOrTx,
  conversationId: string,
  limit: number,
  beforeSeq?: string,
): Promise<{ messages: ConversationMessageRow[]; hasMore: boolean }> {
  let query = db
    .selectFrom('conversation_messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .orderBy('seq', 'desc')
    .limit(limit + 1);
  if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
  const rows = await query.execute();
  return { messages: rows.slice(0, limit).reverse(), hasMore: rows.length > limit };
}

export async function getConversation(
  deps: Pick<ConversationDeps, 'db'>,
  actor: Actor,
  input: ActionData<'conversations.get'>,
): Promise<ActionOutput<'conversations.get'>> {
  const row = await findConversationRow(deps.db, actor, input.id);
  const { messages, hasMore } = await latestMessages(deps.db, row.id, input.messagesLimit, input.beforeSeq);
  return { conversation: conversationRowToConversation(row), messages: messages.map(messageRowToMessage), hasMore };
}

export async function listConversations(
  deps: Pick<ConversationDeps, 'db'>,
  actor: Actor,
  input: ActionData<'conversations.list'>,
): Promise<ActionOutput<'conversations.list'>> {
  let query = deps.db
    .selectFrom('agent_conversations')
    .selectAll()
    .where('deleted_at', 'is', null)
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (actor.agentId) query = query.where('agent_id', '=', actor.agentId);
  if (input.agentId !== undefined) {
    const owner = resolveOwner(actor, input.agentId);
    query = owner === null ? query.where('agent_id', 'is', null) : query.where('agent_id', '=', owner);
  }
  if (input.status) query = query.where('status', '=', input.status);
  if (input.cursor) {
    const [updatedAt, id] = decodeCursor(input.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    query = query.where((eb) => eb(eb.refTuple('updated_at', 'id'), '<', eb.tuple(new Date(updatedAt), id)));
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: items.map(conversationRowToConversation),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.updated_at.toISOString(), last.id]) : null,
  };
}

export async function appendMessages(
  deps: ConversationDeps,
  actor: Actor,
  input: ActionData<'conversations.append'>,
): Promise<ActionOutput<'conversations.append'>> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const current = await findConversationRow(trx, actor, input.id, true);
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) {
      throw new OraError({
        code: 'CONFLICT',
        message: `Conversation ${current.id} is at version ${current.version}, not ${input.expectedVersion}`,
        details: { currentVersion: current.version },
      });
    }
    const inserted = await insertMessages(trx, current, input.messages);
    if (inserted.appended.length > 0) {
      await recordAudit(trx, actor, {
        action: 'conversations.append',
        targetType: 'conversation',
        targetId: current.id,
        details: { appended: inserted.appended.length, duplicates: inserted.duplicates.length },
      });
    }
    return inserted;
  });
  await maybeSummarizeLater(deps, result.row);
  return {
    conversation: conversationRowToConversation(result.row),
    appended: result.appended.map(messageRowToMessage),
    duplicates: result.duplicates,
  };
}

export async function archiveConversation(
  deps: ConversationDeps,
  actor: Actor,
  input: ActionData<'conversations.archive'>,
): Promise<Conversation> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findConversationRow(trx, actor, input.id, true);
    if (current.status === 'archived') return current;
    const updated = await trx
      .updateTable('agent_conversations')
      .set({ ...bump, status: 'archived' })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'conversations.archive',
      targetType: 'conversation',
      targetId: current.id,
    });
    return updated;
  });
  return conversationRowToConversation(row);
}

/** Tokens a summary may take: a tenth of what it folds in, within 200..2000, and never half of it. */
function summaryBudget(tokens: number): number {
  return Math.min(Math.ceil(tokens / 2), Math.max(200, Math.min(2000, Math.round(tokens / 10))));
}

/**
 * Folds all but the latest `keepLast` messages into the thread summary (with the summary so far),
 * recording the last seq it covers. The messages themselves stay: nothing is lost, and the
 * context builder reads the summary in place of the messages it covers.
 */
export async function summarizeConversation(
  deps: ConversationDeps,
  actor: Actor,
  input: ActionData<'conversations.summarize'>,
): Promise<ActionOutput<'conversations.summarize'>> {
  const counter = await loadTokenCounter();
  const result = await deps.db.transaction().execute(async (trx) => {
    const current = await findConversationRow(trx, actor, input.id, true);
    const keep = await trx
      .selectFrom('conversation_messages')
      .select('seq')
      .where('conversation_id', '=', current.id)
      .orderBy('seq', 'desc')
      .offset(input.keepLast)
      .limit(1)
      .executeTakeFirst();
    if (!keep) return { row: current, covered: 0 };
    let uncovered = trx
      .selectFrom('conversation_messages')
      .selectAll()
      .where('conversation_id', '=', current.id)
      .where('seq', '<=', keep.seq)
      .orderBy('seq', 'asc');
    if (current.summary_through_seq !== null) uncovered = uncovered.where('seq', '>', current.summary_through_seq);
    const messages = await uncovered.execute();
    if (messages.length === 0 && input.summary === undefined) return { row: current, covered: 0 };
    const folded = messages.reduce((n, m) => n + (m.token_count ?? 0), 0);
    const summary =
      input.summary ??
      extractiveSummary(messages, {
        maxTokens: summaryBudget(folded + (current.summary_token_count ?? 0)),
        count: (text) => counter.count(text),
        previous: current.summary,
      });
    const updated = await trx
      .updateTable('agent_conversations')
      .set({
        ...bump,
        summary,
        summary_through_seq: keep.seq,
        summary_token_count: counter.count(summary),
        summarized_at: sql<Date>`now()`,
      })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'conversations.summarize',
      targetType: 'conversation',
      targetId: current.id,
      details: { throughSeq: keep.seq, messages: messages.length, given: input.summary !== undefined },
    });
    return { row: updated, covered: messages.length };
  });
  return {
    conversation: conversationRowToConversation(result.row),
    summarizedMessages: result.covered,
    summaryTokens: result.row.summary_token_count ?? 0,
  };
}

/** The latest messages a background summary leaves as they are. */
const KEEP_LAST = 20;

/** Tokens a background summary would fold in: not covered yet, and older than the latest KEEP_LAST. */
async function foldableTokens(db: DbOrTx, row: ConversationRow): Promise<number> {
  const { rows } = await sql<{ tokens: string }>`
    select coalesce(sum(token_count), 0) as tokens
    from conversation_messages
    where conversation_id = ${row.id}
      and seq > ${row.summary_through_seq ?? '0'}
      and seq < (
        select seq from conversation_messages where conversation_id = ${row.id}
        order by seq desc offset ${KEEP_LAST - 1} limit 1
      )
  `.execute(db);
  return Number(rows[0]?.tokens ?? 0);
}

/** After an append: a thread with more foldable tokens than the threshold is summarised by a job. */
async function maybeSummarizeLater(deps: ConversationDeps, row: ConversationRow): Promise<void> {
  const threshold = deps.memory.settings.conversationSummaryTokens;
  if (!deps.queue || threshold <= 0 || row.token_count < threshold) return;
  try {
    if ((await foldableTokens(deps.db, row)) < threshold) return;
    await enqueueJob(
      deps.queue,
      'conversation.summarize',
      { conversationId: row.id },
      { jobId: `conversation.summarize:${row.id}` },
    );
  } catch (error) {
    deps.log.warn({ err: error, conversationId: row.id }, 'could not enqueue a conversation summary');
  }
}

/** The `conversation.summarize` job: idempotent (a summarised thread has nothing left to fold). */
export async function summarizeConversationJob(deps: ConversationDeps, conversationId: string): Promise<void> {
  const row = await deps.db
    .selectFrom('agent_conversations')
    .selectAll()
    .where('id', '=', conversationId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) return;
  if ((await foldableTokens(deps.db, row)) < deps.memory.settings.conversationSummaryTokens) return;
  await summarizeConversation(deps, systemActor, { id: conversationId, keepLast: KEEP_LAST });
}
