import { randomUUID } from 'node:crypto';
import type { TaskRow } from '@ora/db';
import { sql } from 'kysely';
import { recordEvents } from '../events/events';
import type { Consumer, Job, QueueDriver } from '../queue/queue-driver';
import { NonRetryableJobError } from '../queue/queue-driver';
import { Batcher } from '../shared/batcher';
import type { Clock, Db, DbOrTx, Logger } from '../shared/deps';
import { plainArray } from '../shared/pg-arrays';
import { executePrepared } from '../shared/prepared';
import { type Dispatcher, TASKS_QUEUE, taskJobId } from './dispatcher';
import { type DependencyResult, NonRetryableTaskError, type TaskHandlers, type TaskOutcome } from './handlers';
import { enqueueDispatch, releaseDependents, transition } from './state';
import { taskColumns } from './task-columns';
import { taskRowToTask } from './tasks.repository';

export interface TaskWorkerOptions {
  workerId?: string;
  concurrency?: number;
  /** A claimed task belongs to this worker for this long without a heartbeat. */
  leaseMs?: number;
  /** How often leases are renewed and cancels/deadlines noticed (bounds cancel latency). */
  heartbeatMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Told of every attempt's end (for metrics): the status the task moved to, and how long it ran. */
  onFinished?: (info: { taskType: string; status: string; durationMs: number }) => void;
}

export interface TaskWorkerDeps {
  db: Db;
  queue: QueueDriver;
  clock: Clock;
  log: Logger;
  handlers: TaskHandlers;
  dispatcher: Dispatcher;
}

type StopReason = 'cancel' | 'deadline' | 'lease' | 'shutdown';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ClaimedTask {
  row: TaskRow;
  chainBudget: { tokensLeft: number | null; costLeft: number | null };
  dependencies: DependencyResult[];
}

interface Success {
  row: TaskRow;
  leaseToken: string;
  outcome: Extract<TaskOutcome, { status: 'success' }>;
  durationMs: number;
}

interface InFlight {
  taskId: string;
  leaseToken: string;
  controller: AbortController;
  reason: StopReason | null;
}

/** Exponential backoff with full jitter in [base*2^(n-1)/2, base*2^(n-1)], capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Takes task jobs off the queue and runs them: an atomic claim with a fresh lease token, the
 * handler under an abort signal, and an outcome written only while the lease is still ours.
 * Several of these (in one process or many) never run one attempt twice.
 */
export class TaskWorker {
  readonly #deps: TaskWorkerDeps;
  readonly #options: Required<Omit<TaskWorkerOptions, 'onFinished'>> & Pick<TaskWorkerOptions, 'onFinished'>;
  readonly #inFlight = new Map<string, InFlight>();
  #consumer: Consumer | null = null;
  // One batch at a time each: claims (successes) arriving while one runs share the next statement,
  // so under load batches grow instead of their number (a second batch in flight halved their size).
  readonly #claims = new Batcher<string, ClaimedTask | 'ended' | null>((ids) => this.#claimBatch(ids), 100, 0, 1);
  readonly #successes = new Batcher<Success, boolean>((items) => this.#finishSuccesses(items), 100, 0, 1);
  readonly #slugs = new Map<string, string | null>();
  #heartbeat: NodeJS.Timeout | null = null;
  #beating: Promise<void> | null = null;

  constructor(deps: TaskWorkerDeps, options: TaskWorkerOptions = {}) {
    this.#deps = deps;
    this.#options = {
      workerId: options.workerId ?? `worker-${randomUUID().slice(0, 8)}`,
      concurrency: options.concurrency ?? 10,
      leaseMs: options.leaseMs ?? 30_000,
      heartbeatMs: options.heartbeatMs ?? 1_000,
      backoffBaseMs: options.backoffBaseMs ?? 1_000,
      backoffMaxMs: options.backoffMaxMs ?? 10 * 60_000,
      onFinished: options.onFinished,
    };
  }

  get id(): string {
    return this.#options.workerId;
  }

  start(): void {
    this.#consumer = this.#deps.queue.consume(TASKS_QUEUE, (job, signal) => this.#process(job, signal), {
      concurrency: this.#options.concurrency,
    });
    this.#heartbeat = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => {
        this.#beating = null;
      });
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /**
   * Stops taking tasks; the ones running get until the deadline to finish, then are aborted and
   * released back to the queue (the attempt does not count).
   */
  async stop(deadlineMs = 10_000): Promise<void> {
    const timer = setTimeout(() => {
      for (const flight of this.#inFlight.values()) this.#abort(flight, 'shutdown');
    }, deadlineMs);
    try {
      await this.#consumer?.close({ deadlineMs: deadlineMs + 2_000 });
    } finally {
      clearTimeout(timer);
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      await this.#beating;
    }
  }

  #abort(flight: InFlight, reason: StopReason): void {
    if (flight.reason) return;
    flight.reason = reason;
    flight.controller.abort(new Error(`task stopped: ${reason}`));
  }

  async #process(job: Job, jobSignal: AbortSignal): Promise<void> {
    const { taskId } = job.payload as { taskId: string };
    const claimed = await this.#claim(taskId);
    if (!claimed) return;
    const flight: InFlight = {
      taskId,
      leaseToken: claimed.row.lease_token as string,
      controller: new AbortController(),
      reason: null,
    };
    this.#inFlight.set(taskId, flight);
    const onJobAbort = () => this.#abort(flight, 'shutdown');
    jobSignal.addEventListener('abort', onJobAbort, { once: true });
    try {
      let outcome: TaskOutcome | Error;
      try {
        outcome = await this.#run(claimed, flight.controller.signal);
      } catch (error) {
        outcome = error instanceof Error ? error : new Error(String(error));
      }
      await this.#finish(claimed.row, flight, outcome);
    } finally {
      jobSignal.removeEventListener('abort', onJobAbort);
      this.#inFlight.delete(taskId);
    }
  }

  /** queued -> running, atomically: a second claimer of the same task gets nothing. */
  async #claim(taskId: string): Promise<ClaimedTask | null> {
    const result = await this.#claims.add(taskId);
    if (result === 'ended') {
      this.#deps.dispatcher.nudge();
      return null;
    }
    if (!result) await this.#redispatchIfEarly(taskId);
    return result;
  }

  /**
   * Claims every task asked for in this turn. Tasks that can start are claimed in one statement;
   * the others (not queued, not due, past their deadline, or in a chain that spent its budget)
   * go through #claimOrEnd.
   */
  async #claimBatch(taskIds: string[]): Promise<Array<ClaimedTask | 'ended' | null>> {
    const ids = [...new Set(taskIds)].filter((id) => UUID.test(id));
    const claimed = ids.length ? await this.#claimReady(ids) : new Map<string, ClaimedTask>();
    const rest = ids.filter((id) => !claimed.has(id));
    const others = rest.length ? await this.#claimOrEnd(rest) : new Map<string, ClaimedTask | 'ended'>();
    return taskIds.map((id) => claimed.get(id) ?? others.get(id) ?? null);
  }

  /**
   * queued -> running for every task that can start now, in one statement (one round trip, its
   * own transaction): the update with a fresh lease token, the event log rows, the `task.started`
   * events, and what the handlers need (chain budget left, dependency outputs).
   *
   * The dependency outputs are read only for tasks that have dependencies (an index probe first):
   * the join's prepared plan, made while the table was small, may scan all tasks for each row.
   *
   * Its commit does not wait for the WAL flush (synchronous_commit off for this transaction only):
   * a claim lost to a database crash leaves the task queued for another attempt, and the lease
   * token fences out whatever the first worker writes afterwards, as after a worker crash. Every
   * later commit that depends on it (the outcome) is durable, and flushes the claim with it.
   */
  async #claimReady(ids: string[]): Promise<Map<string, ClaimedTask>> {
    const { db, clock } = this.#deps;
    const leaseToken = randomUUID();
    const now = clock.now();
    const workerId = this.#options.workerId;
    const { rows } = await executePrepared(
      db,
      sql<
        TaskRow & {
          tokens_left: string | number | null;
          cost_left: string | number | null;
          dependencies: DependencyResult[];
        }
      >`
      with relaxed as (select set_config('synchronous_commit', 'off', true)),
      claimed as (
        update agent_tasks as t set
          status = 'running',
          lease_token = ${leaseToken},
          lease_expires_at = now() + ${`${this.#options.leaseMs} milliseconds`}::interval,
          attempt_count = t.attempt_count + 1,
          started_at = coalesce(t.started_at, now()),
          last_attempt_at = now(),
          next_attempt_at = null,
          locked_by = ${workerId},
          status_message = null,
          updated_at = ${now}
        where t.id = any(${plainArray(ids)}::uuid[])
          and t.status = 'queued'
          and (t.next_attempt_at is null or t.next_attempt_at <= now())
          and (t.scheduled_for is null or t.scheduled_for <= now())
          and (t.deadline_at is null or t.deadline_at > ${now})
          and not exists (
            select 1 from task_chains c
            where c.id = t.chain_id
              and ((c.token_budget is not null and c.token_budget - c.tokens_used <= 0)
                or (c.cost_budget is not null and c.cost_budget - c.cost_used <= 0))
          )
        returning ${taskColumns('t')}
      ),
      logged as (
        insert into task_events (task_id, from_status, to_status, message, attempt)
        select id, 'queued', 'running', ${`claimed by ${workerId}`}, attempt_count from claimed
      ),
      announced as (
        insert into events (type, payload, agent_id, task_id, key_id)
        select 'task.started',
          jsonb_build_object(
            'taskId', id, 'chainId', chain_id, 'taskType', task_type, 'title', title,
            'agentId', assigned_to, 'status', status, 'attempt', attempt_count
          ),
          assigned_to, id, null
        from claimed
      )
      select c.*,
        ch.token_budget - ch.tokens_used as tokens_left,
        ch.cost_budget - ch.cost_used as cost_left,
        case when exists (select 1 from task_dependencies dd where dd.task_id = c.id) then coalesce((
          select jsonb_agg(jsonb_build_object(
            'id', d.id, 'title', d.title, 'taskType', d.task_type, 'agentSlug', a.slug,
            'status', d.status, 'output', d.output
          ) order by d.id)
          from task_dependencies dd
          join agent_tasks d on d.id = dd.depends_on_task_id
          left join agents a on a.id = d.assigned_to
          where dd.task_id = c.id
        ), '[]'::jsonb) else '[]'::jsonb end as dependencies
      from claimed c
      cross join relaxed
      left join task_chains ch on ch.id = c.chain_id
    `,
    );
    const claimed = new Map<string, ClaimedTask>();
    for (const { tokens_left, cost_left, dependencies, ...row } of rows) {
      claimed.set(row.id, {
        row: row as TaskRow,
        chainBudget: {
          tokensLeft: tokens_left === null ? null : Number(tokens_left),
          costLeft: cost_left === null ? null : Number(cost_left),
        },
        dependencies,
      });
    }
    return claimed;
  }

  /**
   * The claim of tasks that could not simply start, in one transaction: one update, one insert
   * into the event log, one insert of `task.started` events. Tasks past their deadline end
   * `expired`; tasks whose chain has spent its budget wait.
   */
  async #claimOrEnd(ids: string[]): Promise<Map<string, ClaimedTask | 'ended'>> {
    const { db, clock } = this.#deps;
    const leaseToken = randomUUID();
    return db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('agent_tasks')
        .set({
          status: 'running',
          lease_token: leaseToken,
          lease_expires_at: sql<Date>`now() + ${`${this.#options.leaseMs} milliseconds`}::interval`,
          attempt_count: sql<number>`attempt_count + 1`,
          started_at: sql<Date>`coalesce(started_at, now())`,
          last_attempt_at: sql<Date>`now()`,
          next_attempt_at: null,
          locked_by: this.#options.workerId,
          status_message: null,
          updated_at: clock.now(),
        })
        .where('id', 'in', ids)
        .where('status', '=', 'queued')
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', sql<Date>`now()`)]))
        .where((eb) => eb.or([eb('scheduled_for', 'is', null), eb('scheduled_for', '<=', sql<Date>`now()`)]))
        .returningAll()
        .execute();
      const byId = new Map<string, ClaimedTask | 'ended'>();
      if (rows.length === 0) return byId;
      const chainIds = [...new Set(rows.map((r) => r.chain_id).filter((c): c is string => c !== null))];
      const budgets = chainIds.length
        ? await trx
            .selectFrom('task_chains')
            .select(['id', 'token_budget', 'cost_budget', 'tokens_used', 'cost_used'])
            .where('id', 'in', chainIds)
            .where((eb) => eb.or([eb('token_budget', 'is not', null), eb('cost_budget', 'is not', null)]))
            .execute()
        : [];
      const budgetOf = (row: TaskRow) => {
        const chain = budgets.find((b) => b.id === row.chain_id);
        return {
          tokensLeft: chain?.token_budget ? Number(chain.token_budget) - Number(chain.tokens_used) : null,
          costLeft: chain?.cost_budget ? Number(chain.cost_budget) - Number(chain.cost_used) : null,
        };
      };
      await trx
        .insertInto('task_events')
        .values(
          rows.map((row) => ({
            task_id: row.id,
            from_status: 'queued',
            to_status: 'running',
            message: `claimed by ${this.#options.workerId}`,
            attempt: row.attempt_count,
          })),
        )
        .execute();
      const started = [];
      const ended: string[] = [];
      for (const row of rows) {
        const budget = budgetOf(row);
        if (row.deadline_at && row.deadline_at <= clock.now()) {
          await transition(trx, clock, null, row, 'expired', {
            message: 'deadline passed before the task could start',
            leaseToken,
            set: { completed_at: clock.now(), lease_token: null, lease_expires_at: null },
          });
          ended.push(row.id);
          byId.set(row.id, 'ended');
        } else if (
          (budget.tokensLeft !== null && budget.tokensLeft <= 0) ||
          (budget.costLeft !== null && budget.costLeft <= 0)
        ) {
          await transition(trx, clock, null, row, 'waiting', {
            message: 'The chain has spent its budget: raise it or resume the task',
            leaseToken,
            set: { lease_token: null, lease_expires_at: null, attempt_count: row.attempt_count - 1 },
          });
          byId.set(row.id, 'ended');
        } else {
          started.push(row);
          byId.set(row.id, { row, chainBudget: budget, dependencies: [] });
        }
      }
      if (ended.length) await releaseDependents(trx, clock, null, ended);
      // Every claimed task's dependency outputs in one query.
      const depRows = started.length
        ? await trx
            .selectFrom('agent_tasks as t')
            .innerJoin('task_dependencies as d', 'd.depends_on_task_id', 't.id')
            .leftJoin('agents as a', 'a.id', 't.assigned_to')
            .select(['d.task_id as for_task', 't.id', 't.title', 't.task_type', 't.status', 't.output', 'a.slug'])
            .where(
              'd.task_id',
              'in',
              started.map((r) => r.id),
            )
            .execute()
        : [];
      for (const row of started) {
        const claimed = byId.get(row.id) as ClaimedTask;
        claimed.dependencies = depRows
          .filter((d) => d.for_task === row.id)
          .map((d) => ({
            id: d.id,
            title: d.title,
            taskType: d.task_type,
            agentSlug: d.slug,
            status: d.status,
            output: d.output,
          }));
      }
      await recordEvents(
        trx,
        null,
        started.map((row) => ({
          type: 'task.started' as const,
          payload: {
            taskId: row.id,
            chainId: row.chain_id,
            taskType: row.task_type,
            title: row.title,
            agentId: row.assigned_to,
            status: row.status,
            attempt: row.attempt_count,
          },
          context: { taskId: row.id, agentId: row.assigned_to },
        })),
      );
      return byId;
    });
  }

  /** A job that arrived before its task was due goes back on the queue for the rest of the wait. */
  async #redispatchIfEarly(taskId: string): Promise<void> {
    const row = await this.#deps.db
      .selectFrom('agent_tasks')
      .select(['id', 'status', 'attempt_count', 'priority', 'scheduled_for', 'next_attempt_at'])
      .where('id', '=', taskId)
      .executeTakeFirst();
    if (row?.status !== 'queued') return;
    const due = Math.max(row.scheduled_for?.getTime() ?? 0, row.next_attempt_at?.getTime() ?? 0);
    const delayMs = due - this.#deps.clock.now().getTime();
    if (delayMs <= 0) return;
    await this.#deps.queue.enqueue(
      TASKS_QUEUE,
      'task.execute',
      { taskId },
      { jobId: `${taskJobId(taskId, row.attempt_count)}_e${due}`, delayMs, priority: row.priority },
    );
  }

  async #run(claimed: ClaimedTask, signal: AbortSignal): Promise<TaskOutcome> {
    const { handlers, log } = this.#deps;
    const row = claimed.row;
    const handler = handlers.byType[row.task_type] ?? (row.assigned_to ? handlers.agent : undefined);
    if (!handler) {
      throw new NonRetryableTaskError(
        row.assigned_to
          ? `No runtime for agent tasks is configured, and task type "${row.task_type}" has no handler`
          : `No handler for task type "${row.task_type}"`,
      );
    }
    const dependencies = claimed.dependencies;
    const task = taskRowToTask(row, {
      agentSlug: row.assigned_to ? await this.#agentSlug(row.assigned_to) : null,
      dependsOn: dependencies.map((d) => d.id).sort(),
    });
    return handler({
      task,
      dependencies,
      attempt: row.attempt_count,
      signal,
      log: log.child({ taskId: row.id, attempt: row.attempt_count }),
      chainBudget: claimed.chainBudget,
    });
  }

  async #agentSlug(agentId: string): Promise<string | null> {
    const cached = this.#slugs.get(agentId);
    if (cached !== undefined) return cached;
    const agent = await this.#deps.db.selectFrom('agents').select('slug').where('id', '=', agentId).executeTakeFirst();
    const slug = agent?.slug ?? null;
    this.#slugs.set(agentId, slug);
    return slug;
  }

  async #finish(row: TaskRow, flight: InFlight, outcome: TaskOutcome | Error): Promise<void> {
    const { db, clock, log } = this.#deps;
    if (flight.reason === 'lease') {
      log.warn({ taskId: row.id }, 'lost the lease on a task; its outcome is dropped (another attempt owns it)');
      return;
    }
    const leaseToken = flight.leaseToken;
    const now = clock.now();
    const cleared = { lease_token: null, lease_expires_at: null, locked_by: null };
    const duration = now.getTime() - (row.started_at ?? now).getTime();
    const usage =
      outcome instanceof Error
        ? {}
        : {
            ...(outcome.tokensUsed !== undefined ? { tokens_used: (row.tokens_used ?? 0) + outcome.tokensUsed } : {}),
            ...(outcome.cost !== undefined
              ? { estimated_cost: String(Number(row.estimated_cost ?? 0) + outcome.cost) }
              : {}),
            ...(outcome.relatedRunId ? { related_run_id: outcome.relatedRunId } : {}),
          };

    const batchable = !flight.reason && !(outcome instanceof Error) && outcome.status === 'success';
    const wrote = batchable
      ? await this.#successes.add({ row, leaseToken, outcome, durationMs: duration })
      : await db.transaction().execute(async (trx) => {
          let ended: TaskRow | null = null;
          if (flight.reason === 'shutdown') {
            const released = await transition(trx, clock, null, row, 'queued', {
              message: 'released at worker shutdown; it will run again',
              leaseToken,
              set: { ...cleared, attempt_count: row.attempt_count - 1 },
            });
            if (released) await enqueueDispatch(trx, released, clock);
            return released !== null;
          }
          if (flight.reason === 'cancel') {
            const current = await trx
              .selectFrom('agent_tasks')
              .select('cancel_reason')
              .where('id', '=', row.id)
              .executeTakeFirst();
            ended = await transition(trx, clock, null, row, 'cancelled', {
              message: current?.cancel_reason ?? 'cancelled',
              leaseToken,
              set: { ...cleared, ...usage, completed_at: now, duration_ms: duration },
            });
          } else if (flight.reason === 'deadline') {
            ended = await transition(trx, clock, null, row, 'expired', {
              message: 'deadline passed while running',
              leaseToken,
              set: { ...cleared, ...usage, completed_at: now, duration_ms: duration },
            });
          } else if (outcome instanceof Error) {
            const retryable = !(outcome instanceof NonRetryableTaskError || outcome instanceof NonRetryableJobError);
            if (retryable && row.attempt_count < row.max_attempts) {
              const delay = retryDelayMs(row.attempt_count, this.#options.backoffBaseMs, this.#options.backoffMaxMs);
              const queued = await transition(trx, clock, null, row, 'queued', {
                message: `attempt ${row.attempt_count} failed: ${outcome.message}; retrying in ${Math.round(delay / 100) / 10} s`,
                leaseToken,
                willRetry: true,
                set: { ...cleared, error_message: outcome.message, next_attempt_at: new Date(now.getTime() + delay) },
              });
              if (queued) await enqueueDispatch(trx, queued, clock);
              return queued !== null;
            }
            ended = await transition(trx, clock, null, row, 'error', {
              message: retryable ? `failed after ${row.attempt_count} attempts: ${outcome.message}` : outcome.message,
              leaseToken,
              set: { ...cleared, error_message: outcome.message, completed_at: now, duration_ms: duration },
            });
          } else if (outcome.status === 'waiting') {
            const waiting = await transition(trx, clock, null, row, 'waiting', {
              message: outcome.reason,
              leaseToken,
              set: {
                ...cleared,
                ...usage,
                ...(outcome.output !== undefined ? { output: JSON.stringify(outcome.output) } : {}),
              },
            });
            await this.#addChainUsage(trx, row, outcome);
            return waiting !== null;
          }
          // Successes never get here: they end in #finishSuccesses, batched.
          if (!ended) return false;
          await releaseDependents(trx, clock, null, [row.id]);
          return true;
        });
    if (!wrote) log.warn({ taskId: row.id }, 'task changed under this worker (lease lost); outcome dropped');
    // Successes nudge the dispatcher themselves when they queued dependents.
    if (!batchable) this.#deps.dispatcher.nudge();
    this.#options.onFinished?.({
      taskType: row.task_type,
      status: flight.reason ?? (outcome instanceof Error ? 'error' : outcome.status),
      durationMs: clock.now().getTime() - (row.last_attempt_at ?? now).getTime(),
    });
  }

  /**
   * Ends every successful attempt of this turn. Tasks nothing depends on end in one statement, its
   * own transaction: one update (fenced by each task's lease token and by has_dependents, which a
   * graph that adds a dependent sets, under the row lock), its event log rows, the `task.completed`
   * events and the chains' usage. The others (and any the first statement left, lease lost or a
   * dependent added meanwhile) end in a transaction with their dependents released.
   */
  async #finishSuccesses(items: Success[]): Promise<boolean[]> {
    const { db, clock } = this.#deps;
    const now = clock.now();
    const ended = new Set<string>();
    const alone = items.filter((i) => !i.row.has_dependents);
    if (alone.length > 0) for (const id of await this.#endSuccesses(db, alone, now, true)) ended.add(id);
    const rest = items.filter((i) => !ended.has(i.row.id));
    if (rest.length > 0) {
      const done = await db.transaction().execute(async (trx) => {
        const ids = await this.#endSuccesses(trx, rest, now, false);
        if (ids.length === 0) return { ids, queued: false };
        // A statement of its own, after the update: it sees dependents added by a transaction the
        // update waited for.
        const moved = await releaseDependents(trx, clock, null, ids);
        return { ids, queued: moved.some((m) => m.status === 'queued') };
      });
      for (const id of done.ids) ended.add(id);
      if (done.queued) this.#deps.dispatcher.nudge();
    }
    return items.map((i) => ended.has(i.row.id));
  }

  /**
   * The update, its event log rows, the `task.completed` events and the chains' usage in one
   * statement; answers the ids it ended. `alone`: only tasks without dependents (a row that got
   * one meanwhile is left for the caller's other path).
   */
  async #endSuccesses(db: DbOrTx, items: Success[], now: Date, alone: boolean): Promise<string[]> {
    const values = items.map((i) => ({
      id: i.row.id,
      token: i.leaseToken,
      output: i.outcome.output ?? null,
      duration_ms: i.durationMs,
      tokens: i.outcome.tokensUsed ?? null,
      cost: i.outcome.cost ?? null,
      run_id: i.outcome.relatedRunId ?? null,
      post_id: i.outcome.relatedPostId ?? null,
    }));
    const { rows } = await executePrepared(
      db,
      sql<{ id: string }>`
      with v as (
        select * from jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
          as v(id uuid, token uuid, output jsonb, duration_ms integer, tokens integer, cost numeric, run_id uuid, post_id uuid)
      ),
      done as (
        update agent_tasks as t set
          status = 'success',
          output = v.output,
          error_message = null,
          status_message = null,
          completed_at = ${now},
          duration_ms = v.duration_ms,
          tokens_used = case when v.tokens is null then t.tokens_used else coalesce(t.tokens_used, 0) + v.tokens end,
          estimated_cost = case when v.cost is null then t.estimated_cost else coalesce(t.estimated_cost, 0) + v.cost end,
          related_run_id = coalesce(v.run_id, t.related_run_id),
          related_post_id = coalesce(v.post_id, t.related_post_id),
          lease_token = null,
          lease_expires_at = null,
          locked_by = null,
          updated_at = ${now}
        from v
        where t.id = v.id and t.lease_token = v.token and t.status = 'running'
          ${alone ? sql`and not t.has_dependents` : sql``}
        returning t.id, t.chain_id, t.task_type, t.title, t.assigned_to, t.status, t.output, t.duration_ms,
          t.attempt_count, v.tokens, v.cost
      ),
      logged as (
        insert into task_events (task_id, from_status, to_status, message, attempt)
        select id, 'running', 'success', null, attempt_count from done
      ),
      announced as (
        insert into events (type, payload, agent_id, task_id, key_id)
        select 'task.completed',
          jsonb_build_object(
            'taskId', id, 'chainId', chain_id, 'taskType', task_type, 'title', title,
            'agentId', assigned_to, 'status', status, 'output', output, 'durationMs', duration_ms
          ),
          assigned_to, id, null
        from done
      ),
      usage as (
        update task_chains as c set
          tokens_used = c.tokens_used + u.tokens,
          cost_used = c.cost_used + u.cost
        from (
          select chain_id, sum(coalesce(tokens, 0)) as tokens, sum(coalesce(cost, 0)) as cost
          from done
          where chain_id is not null and (coalesce(tokens, 0) <> 0 or coalesce(cost, 0) <> 0)
          group by chain_id
        ) as u
        where c.id = u.chain_id
      )
      select id from done
    `,
    );
    return rows.map((r) => r.id);
  }

  async #addChainUsage(trx: DbOrTx, row: TaskRow, outcome: { tokensUsed?: number; cost?: number }): Promise<void> {
    if (!row.chain_id || (!outcome.tokensUsed && !outcome.cost)) return;
    await trx
      .updateTable('task_chains')
      .set({
        tokens_used: sql`tokens_used + ${outcome.tokensUsed ?? 0}`,
        cost_used: sql`cost_used + ${outcome.cost ?? 0}`,
      })
      .where('id', '=', row.chain_id)
      .execute();
  }

  /** Renews every lease in one statement and stops tasks that were cancelled, expired or lost. */
  async #beat(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    const flights = [...this.#inFlight.values()].filter((f) => !f.reason);
    if (flights.length === 0) return;
    try {
      const renewed = await sql<{ id: string; cancel_requested_at: Date | null; deadline_at: Date | null }>`
        update agent_tasks as t
        set lease_expires_at = now() + ${`${this.#options.leaseMs} milliseconds`}::interval
        from jsonb_to_recordset(${JSON.stringify(flights.map((f) => ({ id: f.taskId, token: f.leaseToken })))}::jsonb)
          as v(id uuid, token uuid)
        where t.id = v.id and t.lease_token = v.token and t.status = 'running'
        returning t.id, t.cancel_requested_at, t.deadline_at
      `.execute(this.#deps.db);
      const byId = new Map(renewed.rows.map((r) => [r.id, r]));
      const now = this.#deps.clock.now();
      for (const flight of flights) {
        const row = byId.get(flight.taskId);
        if (!row) this.#abort(flight, 'lease');
        else if (row.cancel_requested_at) this.#abort(flight, 'cancel');
        else if (row.deadline_at && row.deadline_at <= now) this.#abort(flight, 'deadline');
      }
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'lease heartbeat failed; retrying');
    }
  }
}
