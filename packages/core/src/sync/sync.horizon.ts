import { sql } from 'kysely';
import type { DbOrTx } from '../shared/deps';

/**
 * The highest version a pull may hand out: every synced row with a version at or below it has
 * committed (or will never exist). Versions come from one sequence, drawn when a transaction
 * writes, so a transaction may draw version 7, a second one draw 8 and commit first; a pull that
 * returned 8 and moved its cursor there would never return 7. The events outbox has the same
 * problem and orders by (txid, seq) below `pg_snapshot_xmin`; a sync cursor is one number, so here:
 *
 * 1. read L, the sequence's last value: every version <= L has been drawn;
 * 2. then read X = `pg_snapshot_xmax(pg_current_snapshot())`, the first transaction id not yet
 *    assigned. A version is always drawn after its transaction has an id (the `ora_sync_stamp_*`
 *    triggers make sure of it), so every transaction that drew a version <= L has an id < X;
 * 3. wait until `pg_snapshot_xmin(pg_current_snapshot()) >= X`: every transaction with an id
 *    below X has ended. From then on, every version <= L is committed and visible, or aborted.
 *    xmin is cluster-wide (another database's long transaction, an autovacuum ANALYZE hold it),
 *    so the wait also ends when the transactions of this database that held an id at step 2
 *    (client backends' `pg_stat_activity.backend_xid`, by pid and xid) have ended: only they can
 *    hold a version <= L not committed yet. This relies on every writer of the synced tables
 *    connecting as a role whose sessions this one can see in pg_stat_activity (ORA's own role,
 *    or a superuser; other roles' sessions show no backend_xid without pg_read_all_stats).
 *
 * The wait lasts as long as the writes in flight at step 2 (short transactions: milliseconds; a
 * push batch holds at most `pushBatchSize` mutations). It must run outside any transaction, or it
 * would wait for itself. Returns null when `waitMs` passes first (a long transaction is open).
 * On PGlite there is one connection, so the wait ends at once. Works on Postgres >= 13 and PGlite.
 */
export async function pullHorizon(
  db: DbOrTx,
  waitMs: number,
  after?: string,
): Promise<{ horizon: string; waitedMs: number } | null> {
  const started = Date.now();
  const seq = await sql<{ last: string; called: boolean }>`
    select last_value::text as last, is_called as called from sync_version_seq
  `.execute(db);
  const first = seq.rows[0];
  const last = first?.called ? first.last : '0';
  // Nothing drawn after the caller's cursor: nothing to wait for.
  if (after !== undefined && BigInt(last) <= BigInt(after)) return { horizon: after, waitedMs: 0 };
  // No transaction in progress at all (xmin = xmax): nothing to wait for. Else the ones to wait
  // for are those of this database holding an id now (another database's cannot write these
  // tables): each is named by (pid, xid), so a backend that moved on to a new transaction counts
  // as ended.
  const snap = await sql<{ xmax: string; idle: boolean; busy: Array<{ pid: number; xid: string }> }>`
    select pg_snapshot_xmax(s)::text as xmax, pg_snapshot_xmin(s) = pg_snapshot_xmax(s) as idle,
      coalesce((
        select json_agg(json_build_object('pid', a.pid, 'xid', a.backend_xid::text))
        from pg_stat_activity a
        where a.datname = current_database() and a.backend_type = 'client backend'
          and a.backend_xid is not null and a.pid <> pg_backend_pid()
      ), '[]'::json) as busy
    from pg_current_snapshot() as s
  `.execute(db);
  const row = snap.rows[0];
  const xmax = row?.xmax as string;
  let busy = row?.busy ?? [];
  if (row?.idle || busy.length === 0) return { horizon: last, waitedMs: Date.now() - started };
  for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
    if (Date.now() - started >= waitMs) return null;
    await new Promise((resolve) => setTimeout(resolve, delay));
    const check = await sql<{ done: boolean; busy: Array<{ pid: number; xid: string }> }>`
      select pg_snapshot_xmin(pg_current_snapshot()) >= ${xmax}::xid8 as done,
        coalesce((
          select json_agg(json_build_object('pid', a.pid, 'xid', a.backend_xid::text))
          from pg_stat_activity a
          where a.datname = current_database() and a.backend_xid is not null
            and (a.pid, a.backend_xid::text) in (${sql.join(busy.map((b) => sql`(${b.pid}::int, ${b.xid}::text)`))})
        ), '[]'::json) as busy
    `.execute(db);
    const c = check.rows[0];
    if (c?.done || (c?.busy ?? []).length === 0) return { horizon: last, waitedMs: Date.now() - started };
    busy = c?.busy ?? busy;
  }
}
