import type { Actor, DbOrTx } from '../shared/deps';

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string | null;
  details?: Record<string, unknown>;
}

/** One row per mutation: who, what, when, from where. Call it inside the mutation's transaction. */
export async function recordAudit(db: DbOrTx, actor: Actor, entry: AuditEntry): Promise<void> {
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
