import type { ActionData, ActionOutput } from '@ora/contracts';
import type { AuditLogRow } from '@ora/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { decodeCursor, pageFrom } from '../shared/cursor';
import type { Actor, DbOrTx } from '../shared/deps';

export interface AuditRecord {
  action: string;
  targetType?: string;
  targetId?: string | null;
  details?: Record<string, unknown>;
}

/** One row per mutation: who, what, when, from where. Call it inside the mutation's transaction. */
export async function recordAudit(db: DbOrTx, actor: Actor, entry: AuditRecord): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      key_id: actor.keyId,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      ip: actor.ip,
      request_id: actor.requestId,
      details: entry.details ? JSON.stringify(entry.details) : null,
    })
    .execute();
}

/** A cursor: the position of the last entry of the page (a bigint, so at most 2^63 - 1). */
const Position = z.tuple([
  z
    .string()
    .regex(/^\d{1,19}$/)
    .refine((text) => BigInt(text) <= 9223372036854775807n),
]);

/**
 * The log newest first (by position, which grows with time), filtered by key, action (or a whole
 * domain), target and time. Served by the log's indexes: by key, by target, and the primary key.
 */
export async function listAudit(db: DbOrTx, input: ActionData<'audit.list'>): Promise<ActionOutput<'audit.list'>> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.keyId) query = query.where('key_id', '=', input.keyId);
  if (input.action?.endsWith('.*')) {
    // `_` matches any one character in LIKE: the domain's own underscores are taken literally.
    query = query.where('action', 'like', `${input.action.slice(0, -1).replaceAll('_', '\\_')}%`);
  } else if (input.action) query = query.where('action', '=', input.action);
  if (input.targetType) query = query.where('target_type', '=', input.targetType);
  if (input.targetId) query = query.where('target_id', '=', input.targetId);
  if (input.since) query = query.where('created_at', '>=', new Date(input.since));
  if (input.until) query = query.where('created_at', '<', new Date(input.until));
  if (input.cursor) {
    const [before] = decodeCursor(input.cursor, Position);
    query = query.where(sql<boolean>`id < ${before}::bigint`);
  }
  return pageFrom(await query.execute(), input.limit, (row) => [String(row.id)], auditRowToEntry);
}

function auditRowToEntry(row: AuditLogRow) {
  return {
    id: String(row.id),
    at: row.created_at.toISOString(),
    keyId: row.key_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    requestId: row.request_id,
    details: (row.details as Record<string, unknown> | null) ?? null,
  };
}
