import { eventMatchesPattern, type OraEvent, type WebhookFilters } from '@ora/contracts';
import type { WebhookRow } from '@ora/db';
import { sql } from 'kysely';
import {
  comparePositions,
  type EventPosition,
  hasEventsAfter,
  type LoggedEvent,
  readEvents,
} from '../events/event-log';
import type { QueueDriver } from '../queue/queue-driver';
import type { Clock, Db, Logger } from '../shared/deps';
import { executePrepared } from '../shared/prepared';
import { enqueueDeliveries } from './webhooks.service';

export const WEBHOOKS_CURSOR = 'webhooks';

/**
 * Events per dispatcher batch (one transaction). A burst that outpaces the dispatcher is caught up
 * in few large batches: each batch costs a handful of round trips whatever its size.
 */
const DISPATCH_BATCH = 1000;

export interface DispatchDeps {
  db: Db;
  queue: QueueDriver;
  clock: Clock;
  log: Logger;
}

type Subscriber = Pick<WebhookRow, 'id' | 'events' | 'filters' | 'agent_id' | 'created_at'>;

/** Does this webhook want this event: its types, its binding, its filters, and not older than it? */
export function webhookWants(webhook: Subscriber, event: OraEvent): boolean {
  if (new Date(event.createdAt) < webhook.created_at) return false;
  if (!webhook.events.some((p) => eventMatchesPattern(p, event.type))) return false;
  if (webhook.agent_id && event.agentId !== webhook.agent_id) return false;
  const filters = (webhook.filters ?? {}) as WebhookFilters;
  if (filters.agentIds && !filters.agentIds.includes(event.agentId ?? '')) return false;
  const payload = (event.payload ?? {}) as Record<string, unknown>;
  if (filters.taskTypes && !filters.taskTypes.includes(String(payload.taskType ?? ''))) return false;
  for (const [field, wanted] of Object.entries(filters.payload ?? {})) {
    const value = payload[field];
    const allowed = Array.isArray(wanted) ? wanted : [wanted];
    if (!allowed.some((w) => w === value)) return false;
  }
  return true;
}

/** The JSON body a webhook receives for an event (Standard Webhooks: type, timestamp, data). */
export function deliveryBody(event: OraEvent) {
  return {
    id: event.id,
    seq: event.seq,
    type: event.type,
    version: event.version,
    timestamp: event.createdAt,
    agentId: event.agentId,
    taskId: event.taskId,
    data: event.payload,
  };
}

export interface DispatchResult {
  /** false: another process holds the dispatcher's cursor right now. */
  ran: boolean;
  /** The cursor after this batch (when it ran). */
  position: EventPosition | null;
  /** Whether any webhook was active (when it ran). */
  watched?: boolean;
  events: number;
  deliveries: Array<{ id: string; attempt_count: number }>;
}

/**
 * One batch of the webhook dispatcher: the events after its cursor (below the horizon) become
 * delivery rows, one per matching webhook, in the same transaction that moves the cursor. The
 * (webhook, event) unique key makes a repeated batch harmless; `skip locked` on the cursor row
 * lets one process at a time do it. Jobs are enqueued after the commit.
 */
export async function dispatchEvents(deps: DispatchDeps, batchSize = DISPATCH_BATCH): Promise<DispatchResult> {
  const { result, enqueued } = await dispatchBatch(deps, batchSize);
  await enqueued;
  return result;
}

/** One batch, committed; its jobs are being enqueued (`enqueued`: done; it never rejects). */
async function dispatchBatch(
  deps: DispatchDeps,
  batchSize: number,
): Promise<{ result: DispatchResult; enqueued: Promise<void> }> {
  const result = await deps.db.transaction().execute(async (trx): Promise<DispatchResult> => {
    const cursor = await trx
      .selectFrom('event_cursors')
      .select([sql<string>`txid::text`.as('txid'), 'seq'])
      .where('name', '=', WEBHOOKS_CURSOR)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!cursor) return { ran: false, position: null, events: 0, deliveries: [] };
    const from = { txid: cursor.txid, seq: String(cursor.seq) };
    // Both reads at once: the second is sent as soon as the first is answered.
    const [events, subscribers] = await Promise.all([
      readEvents(trx, from, batchSize),
      trx
        .selectFrom('webhooks')
        .select(['id', 'events', 'filters', 'agent_id', 'created_at'])
        .where('is_active', '=', true)
        .execute(),
    ]);
    const watched = subscribers.length > 0;
    if (events.length === 0) return { ran: true, position: from, events: 0, deliveries: [], watched };
    const now = deps.clock.now();

    // One row per (webhook, event). A body is built once per event, however many webhooks want it.
    const webhookIds: string[] = [];
    const eventSeqs: string[] = [];
    const eventTypes: string[] = [];
    const bodies: Array<ReturnType<typeof deliveryBody>> = [];
    for (const { event } of events) {
      let body: ReturnType<typeof deliveryBody> | null = null;
      for (const webhook of subscribers) {
        if (!webhookWants(webhook, event)) continue;
        body ??= deliveryBody(event);
        webhookIds.push(webhook.id);
        eventSeqs.push(event.seq);
        eventTypes.push(event.type);
        bodies.push(body);
      }
    }
    // One statement, however many deliveries. The bodies go as one JSON array (serialised in one
    // native call, no escaping into an array literal); each is stored as the text of its element
    // (json keeps text as written), so it goes out as JSON.stringify wrote it.
    const inserted = webhookIds.length
      ? (
          await executePrepared(
            trx,
            sql<{ id: string; webhook_id: string; attempt_count: number }>`
            insert into webhook_deliveries
              (webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
            select w, e, t, p, 'pending', ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz
            from rows from (
              unnest(${webhookIds}::uuid[]), unnest(${eventSeqs}::bigint[]), unnest(${eventTypes}::text[]),
              json_array_elements(${JSON.stringify(bodies)}::json)
            ) as d(w, e, t, p)
            on conflict (webhook_id, event_id) do nothing
            returning id, webhook_id, attempt_count
          `,
          )
        ).rows
      : [];
    const perWebhook = new Map<string, number>();
    for (const row of inserted) perWebhook.set(row.webhook_id, (perWebhook.get(row.webhook_id) ?? 0) + 1);
    const last = (events.at(-1) as LoggedEvent).position;
    // The stats and the cursor at once (sent back to back on the transaction's connection).
    await Promise.all([
      perWebhook.size
        ? sql`
            update webhooks set total_deliveries = total_deliveries + v.n, last_triggered_at = ${now}
            from (values ${sql.join([...perWebhook].map(([id, n]) => sql`(${id}::uuid, ${n}::int)`))}) as v(id, n)
            where webhooks.id = v.id
          `.execute(trx)
        : null,
      trx
        .updateTable('event_cursors')
        .set({ txid: sql`${last.txid}::xid8`, seq: last.seq, updated_at: now })
        .where('name', '=', WEBHOOKS_CURSOR)
        .execute(),
    ]);
    return { ran: true, position: last, events: events.length, deliveries: inserted, watched };
  });
  // enqueueDeliveries logs its own failures (the maintenance sweep enqueues what it missed).
  return { result, enqueued: enqueueDeliveries(deps, result.deliveries) };
}

/**
 * With no active webhook, a batch would read the events only to match them against nobody: the
 * cursor moves straight to the head of the log instead, in one statement (no transaction, no
 * events sent over), just as a batch that matched no webhook would have moved it. A webhook created
 * meanwhile is seen by the next batch, as it would be by a batch that had read the events: an event
 * is only ever delivered to webhooks that existed when it was dispatched, and none older than the
 * webhook (`webhookWants`).
 *
 * Its commit does not wait for the WAL flush: a move lost to a database crash is made again by the
 * next call, and skipped events stay older than any webhook created after them.
 *
 * Answers null when some webhook is active (the caller runs the batch), else where the cursor
 * stands, or `ran: false` when another process holds it and there was something to move. The row
 * is locked only when there is: an idle call is a read.
 */
async function skipUnwatched(deps: DispatchDeps): Promise<Pick<DispatchResult, 'ran' | 'position'> | null> {
  const { rows } = await executePrepared(
    deps.db,
    sql<{
      watched: boolean;
      seen_txid: string | null;
      seen_seq: string | null;
      head_txid: string | null;
      head_seq: string | null;
      moved_txid: string | null;
      moved_seq: string | null;
    }>`
    with relaxed as (select set_config('synchronous_commit', 'off', true)),
    head as (
      select txid, seq from events
      where txid < pg_snapshot_xmin(pg_current_snapshot())
      order by txid desc, seq desc
      limit 1
    ),
    watched as (
      select exists (select 1 from webhooks where is_active) as active
    ),
    seen as (
      select txid, seq from event_cursors where name = ${WEBHOOKS_CURSOR}
    ),
    claimed as (
      select c.name from event_cursors c, head, watched
      where c.name = ${WEBHOOKS_CURSOR} and not watched.active and (head.txid, head.seq) > (c.txid, c.seq)
      for update of c skip locked
    ),
    moved as (
      update event_cursors c set txid = head.txid, seq = head.seq, updated_at = ${deps.clock.now()}
      from claimed, head
      where c.name = claimed.name and (head.txid, head.seq) > (c.txid, c.seq)
      returning c.txid, c.seq
    )
    select
      (select active from watched) as watched,
      (select txid::text from seen) as seen_txid, (select seq from seen) as seen_seq,
      (select txid::text from head) as head_txid, (select seq from head) as head_seq,
      (select txid::text from moved) as moved_txid, (select seq from moved) as moved_seq
    from relaxed
  `,
  );
  const row = rows[0];
  if (!row || row.watched) return null;
  if (row.moved_txid !== null) return { ran: true, position: { txid: row.moved_txid, seq: String(row.moved_seq) } };
  if (row.seen_txid === null) return { ran: false, position: null };
  const seen = { txid: row.seen_txid, seq: String(row.seen_seq) };
  const head = row.head_txid === null ? null : { txid: row.head_txid, seq: String(row.head_seq) };
  // Nothing past the cursor: done. Something past it, yet not moved: another process holds it.
  if (!head || comparePositions(head, seen) <= 0) return { ran: true, position: seen };
  return { ran: false, position: null };
}

/**
 * Dispatches until the log is read up to the horizon. `busy`: another process held the cursor, so
 * events committed during its batch may still wait. `watched`: whether any webhook was active (a
 * hint from the last drain: with `true`, the check that skips unwatched events is not tried first).
 */
export async function drainEvents(
  deps: DispatchDeps,
  batchSize = DISPATCH_BATCH,
  hint: { watched?: boolean | null } = {},
): Promise<{ events: number; busy: boolean; position: EventPosition | null; watched: boolean }> {
  if (hint.watched !== true) {
    const skipped = await skipUnwatched(deps);
    if (skipped) return { events: 0, busy: !skipped.ran, position: skipped.position, watched: false };
  }
  let events = 0;
  // A batch's jobs are enqueued while the next batch is read and written; all before returning.
  const enqueued: Array<Promise<void>> = [];
  try {
    for (;;) {
      const { result: batch, enqueued: jobs } = await dispatchBatch(deps, batchSize);
      enqueued.push(jobs);
      events += batch.events;
      if (!batch.ran) return { events, busy: true, position: null, watched: true };
      if (batch.events < batchSize) {
        return { events, busy: false, position: batch.position, watched: batch.watched ?? true };
      }
    }
  } finally {
    await Promise.all(enqueued);
  }
}

/**
 * The webhook dispatcher of one process: drains on a nudge (after a commit that wrote events, here
 * or, through the wake signal, in another process) and on a poll that first probes the log past
 * the last cursor it saw, so an idle poll is one index lookup. A burst of nudges makes one drain; a
 * nudge during a drain makes one more. The maintenance pass drains too, as a safety net.
 */
export class WebhookDispatcher {
  #scheduled = false;
  #running: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #probing = false;
  /** The cursor as this process last saw it (other processes may have moved it on since). */
  #known: EventPosition | null = null;
  /** Whether the last drain found an active webhook (null: no drain yet). */
  #watched: boolean | null = null;

  constructor(
    private readonly deps: DispatchDeps,
    private readonly batchSize = DISPATCH_BATCH,
  ) {}

  /** Polls every `pollMs` from now on. */
  start(pollMs: number): void {
    this.#timer = setInterval(() => void this.#probe(), pollMs);
    this.#timer.unref();
    this.nudge();
  }

  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    return this.#running ?? Promise.resolve();
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.#running || this.#scheduled) return;
    this.#probing = true;
    try {
      if (!this.#known || (await hasEventsAfter(this.deps.db, this.#known))) this.nudge();
    } catch (err) {
      this.deps.log.warn({ err }, 'probing the event log failed; the next poll retries');
    } finally {
      this.#probing = false;
    }
  }

  nudge(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.drain();
    });
  }

  drain(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          // Most nudges follow commits that wrote no event: an index probe settles those. With no
          // webhook active the drain is one statement that probes too, so it goes at once.
          const probe = this.#watched !== false && this.#known;
          if (probe && !(await hasEventsAfter(this.deps.db, probe))) continue;
          const { busy, position, watched } = await drainEvents(this.deps, this.batchSize, {
            watched: this.#watched,
          });
          this.#watched = watched;
          if (position) this.#known = position;
          // Whoever holds the cursor may have read before our events committed: look again shortly.
          if (busy) setTimeout(() => this.nudge(), 50).unref();
        } while (this.#again);
      } catch (err) {
        this.deps.log.warn({ err }, 'webhook dispatch failed; the next nudge or maintenance pass retries');
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }
}
