import { retentionScore } from '@ora/retrieval';
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit';
import { systemActor } from '../shared/deps';
import type { MemoryDeps } from './memory.deps';
import { sweepEmbeddings } from './memory.embedding';
import { updateMemoryRows } from './memory.service';

export interface MemoryMaintenanceReport {
  expired: number;
  evicted: number;
  embedQueued: number;
}

/**
 * Expired memories go to the archive (search, lists and context already hide them from the moment
 * they expire; this makes the archive say so and frees their key). One batch per pass.
 */
export async function archiveExpiredMemories(deps: Pick<MemoryDeps, 'db'>, batchSize = 200): Promise<number> {
  return deps.db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('agent_memory')
      .select('id')
      .where('expires_at', '<=', sql<Date>`now()`)
      .where('is_archived', '=', false)
      .where('deleted_at', 'is', null)
      .orderBy('expires_at')
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return 0;
    const rows = await updateMemoryRows(
      trx,
      due.map((r) => r.id),
      { is_archived: true },
      'archive',
      systemActor,
    );
    await recordAudit(trx, systemActor, {
      action: 'memory.expire',
      targetType: 'memory',
      details: { archived: rows.length, ids: rows.slice(0, 50).map((r) => r.id) },
    });
    return rows.length;
  });
}

/**
 * Keeps every agent within `maxPerAgent` live memories: the lowest-scored non-pinned ones (by
 * importance, recency of use and access frequency) go to the archive, never deleted, each with a
 * version and an audit row. Pinned memories are never evicted, so an agent with more pinned
 * memories than the limit stays over it (and the log says so).
 */
export async function enforceMemoryLimits(deps: Pick<MemoryDeps, 'db' | 'clock' | 'log' | 'memory'>): Promise<number> {
  const { maxPerAgent, scoring } = deps.memory.settings;
  const over = await deps.db
    .selectFrom('agent_memory')
    .select(['agent_id', sql<string>`count(*)`.as('n')])
    .where('deleted_at', 'is', null)
    .where('is_archived', '=', false)
    .groupBy('agent_id')
    .having(sql`count(*)`, '>', maxPerAgent)
    .execute();
  let evicted = 0;
  for (const { agent_id: agentId } of over) {
    evicted += await deps.db.transaction().execute(async (trx) => {
      // One evictor per owner at a time (several workers run maintenance).
      await sql`select pg_advisory_xact_lock(hashtext(${`ora.memory.limit:${agentId ?? 'ora'}`}))`.execute(trx);
      const candidates = await trx
        .selectFrom('agent_memory')
        .select(['id', 'importance', 'access_count', 'last_accessed_at', 'updated_at', 'is_pinned'])
        .where(agentId === null ? sql<boolean>`agent_id is null` : sql<boolean>`agent_id = ${agentId}`)
        .where('deleted_at', 'is', null)
        .where('is_archived', '=', false)
        .execute();
      const excess = candidates.length - maxPerAgent;
      if (excess <= 0) return 0;
      const now = deps.clock.now();
      const ranked = candidates
        .filter((c) => !c.is_pinned)
        .map((c) => ({
          id: c.id,
          score: retentionScore(
            {
              importance: Number(c.importance),
              accessCount: c.access_count,
              lastUsedAt: c.last_accessed_at ?? c.updated_at,
            },
            scoring,
            now,
          ),
        }))
        .sort((a, b) => a.score - b.score);
      const out = ranked.slice(0, excess).map((c) => c.id);
      if (out.length < excess) {
        deps.log.warn(
          { agentId, live: candidates.length, limit: maxPerAgent },
          'memory limit exceeded by pinned memories; they are never evicted',
        );
      }
      for (let i = 0; i < out.length; i += 500) {
        await updateMemoryRows(trx, out.slice(i, i + 500), { is_archived: true }, 'archive', systemActor);
      }
      await recordAudit(trx, systemActor, {
        action: 'memory.evict',
        targetType: 'agent',
        targetId: agentId,
        details: { archived: out.length, limit: maxPerAgent, ids: out.slice(0, 50) },
      });
      return out.length;
    });
  }
  return evicted;
}

/**
 * The memory part of a worker's maintenance pass: expiry, the embedding sweep and (every
 * `limitCheckIntervalMs`) the per-agent limits. Errors are logged; the next pass tries again.
 */
export async function runMemoryMaintenance(deps: MemoryDeps): Promise<MemoryMaintenanceReport> {
  const report: MemoryMaintenanceReport = { expired: 0, evicted: 0, embedQueued: 0 };
  try {
    report.expired = await archiveExpiredMemories(deps);
    report.embedQueued = await sweepEmbeddings(deps);
    const state = deps.memory.maintenance;
    const now = deps.clock.now().getTime();
    if (now >= state.nextLimitCheckAt) {
      state.nextLimitCheckAt = now + deps.memory.settings.limitCheckIntervalMs;
      report.evicted = await enforceMemoryLimits(deps);
    }
  } catch (error) {
    deps.log.warn({ err: error }, 'memory maintenance failed; retrying on the next pass');
  }
  return report;
}
