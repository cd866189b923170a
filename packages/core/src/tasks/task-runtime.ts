import { closeAbandonedRuns } from '../agents/runs.maintenance';
import type { MemoryServices } from '../memory/memory.deps';
import { runMemoryMaintenance } from '../memory/memory.maintenance';
import type { QueueDriver } from '../queue/queue-driver';
import { runDueSchedules } from '../schedules/schedules.service';
import type { Clock, Db, Logger } from '../shared/deps';
import { runWebhookMaintenance } from '../webhooks/webhook-maintenance';
import { Dispatcher } from './dispatcher';
import type { TaskHandlers } from './handlers';
import { type MaintenanceOptions, runTaskMaintenance } from './maintenance';
import { TaskWorker, type TaskWorkerOptions } from './task-worker';
import { createGraphBatcher } from './tasks.service';

export interface TaskRuntimeDeps {
  db: Db;
  queue: QueueDriver;
  clock: Clock;
  log: Logger;
  handlers: TaskHandlers;
  /** Memory's services: maintenance archives expired memories, enforces limits, sweeps embeddings. */
  memory?: MemoryServices;
}

export interface TaskRuntimeOptions {
  /** Run tasks in this process (the worker, and `pnpm start`); false for an API-only process. */
  worker?: TaskWorkerOptions | false;
  /** Run the maintenance pass (deadlines, lost leases, re-dispatch, schedules) this often; false: never. */
  maintenanceIntervalMs?: number | false;
  maintenance?: MaintenanceOptions;
}

/**
 * The moving parts of the task queue in one process: the dispatcher that moves outbox rows onto
 * the queue, a worker, and the maintenance loop. The API process runs the dispatcher; workers run
 * all three; the embedded mode runs all three next to the API.
 */
export class TaskRuntime {
  readonly dispatcher: Dispatcher;
  /** Concurrent task creations of this process share one transaction. */
  readonly graphs: ReturnType<typeof createGraphBatcher>;
  readonly worker: TaskWorker | null;
  readonly #deps: TaskRuntimeDeps;
  readonly #options: TaskRuntimeOptions;
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;

  constructor(deps: TaskRuntimeDeps, options: TaskRuntimeOptions = {}) {
    this.#deps = deps;
    this.#options = options;
    this.dispatcher = new Dispatcher(deps);
    this.graphs = createGraphBatcher({ db: deps.db, clock: deps.clock, dispatch: this.dispatcher });
    this.worker =
      options.worker === false ? null : new TaskWorker({ ...deps, dispatcher: this.dispatcher }, options.worker ?? {});
  }

  start(): void {
    this.worker?.start();
    const interval = this.#options.maintenanceIntervalMs ?? 1_000;
    if (interval !== false) {
      this.#timer = setInterval(() => {
        this.#tick ??= this.maintain().finally(() => {
          this.#tick = null;
        });
      }, interval);
      this.#timer.unref();
    }
    this.dispatcher.nudge();
  }

  /** One maintenance pass; errors are logged, the next pass tries again. */
  async maintain(): Promise<void> {
    const deps = { ...this.#deps, dispatcher: this.dispatcher };
    try {
      await runTaskMaintenance(deps, this.#options.maintenance);
      await runDueSchedules({ db: deps.db, clock: deps.clock, dispatch: this.dispatcher });
      // A delivery idle as long as a queued task may be is put on the queue again the same way.
      await runWebhookMaintenance(deps, { idleDueMs: this.#options.maintenance?.staleQueuedMs ?? 30_000 });
      await closeAbandonedRuns(deps);
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'task maintenance failed; retrying on the next pass');
    }
    if (this.#deps.memory) await runMemoryMaintenance({ ...this.#deps, memory: this.#deps.memory });
  }

  /** Stops taking work; running tasks get `deadlineMs` to finish before they are released. */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.worker?.stop(deadlineMs);
    await this.#tick;
    await this.dispatcher.flush().catch(() => undefined);
    await this.dispatcher.drain().catch(() => undefined);
  }
}
