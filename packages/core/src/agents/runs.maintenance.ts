import { sql } from 'kysely';
import type { Db } from '../shared/deps';

/**
 * Closes runs left `running` by a worker that died mid-run: their task is no longer running that
 * attempt. (A live run is always `running` exactly while its attempt runs.) Returns how many.
 */
export async function closeAbandonedRuns(deps: { db: Db }, graceMs = 10_000): Promise<number> {
  const result = await sql`
    update agent_runs as r
    set status = 'error',
        stop_reason = 'error',
        error_message = 'The worker running this attempt stopped before it ended (its lease was lost)',
        completed_at = now()
    from agent_tasks as t
    where r.task_id = t.id
      and r.status = 'running'
      and r.started_at < now() - ${`${graceMs} milliseconds`}::interval
      and (t.status <> 'running' or t.attempt_count is distinct from r.attempt)
  `.execute(deps.db);
  return Number(result.numAffectedRows ?? 0);
}
