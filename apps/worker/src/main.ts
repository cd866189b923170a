import { loadConfig } from '@ora/api/env';
import { createSystem } from '@ora/api/system';
import { TASKS_QUEUE } from '@ora/core';
import Fastify from 'fastify';
import pino from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';

/**
 * ORA's worker: takes tasks off the queue, runs the maintenance loop, and serves /healthz and
 * /metrics. Run as many as you like against one Postgres and Redis.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, base: { service: 'worker' } });
  const completed = new Counter({
    name: 'ora_tasks_finished_total',
    help: 'Task attempts that ended, by the status they moved to',
    labelNames: ['task_type', 'status'] as const,
    registers: [],
  });
  const durations = new Histogram({
    name: 'ora_task_duration_seconds',
    help: 'How long task attempts ran',
    labelNames: ['task_type'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [],
  });
  const system = await createSystem(config, log, {
    tasks: {
      worker: {
        concurrency: config.workerConcurrency,
        leaseMs: config.taskLeaseMs,
        onFinished: ({ taskType, status, durationMs }) => {
          completed.inc({ task_type: taskType, status });
          durations.observe({ task_type: taskType }, durationMs / 1000);
        },
      },
      maintenanceIntervalMs: 1_000,
      maintenance: { staleQueuedMs: config.taskStaleMs },
    },
  });
  const { metrics, database, queue } = system;
  metrics.registerMetric(completed);
  metrics.registerMetric(durations);
  const depth = new Gauge({
    name: 'ora_queue_depth',
    help: 'Jobs in the task queue by state, and tasks in Postgres by status',
    labelNames: ['source', 'state'] as const,
    registers: [metrics],
    async collect() {
      const counts = await queue.counts(TASKS_QUEUE);
      for (const [state, n] of Object.entries(counts)) this.set({ source: 'queue', state }, n);
      const rows = await database.db
        .selectFrom('agent_tasks')
        .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
        .where('status', 'in', ['pending', 'queued', 'running', 'waiting'])
        .groupBy('status')
        .execute();
      for (const status of ['pending', 'queued', 'running', 'waiting']) {
        this.set({ source: 'tasks', state: status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
      }
    },
  });
  void depth;

  const http = Fastify({ logger: false });
  http.get('/healthz', async () => ({ status: 'ok', worker: system.tasks.worker?.id }));
  http.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  await http.listen({ port: config.workerPort, host: config.host });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.workerPort;
  process.stdout.write(
    `ORA worker ${system.tasks.worker?.id} running ${config.workerConcurrency} at a time (${queue.kind} queue); health and metrics on http://${config.host}:${port}\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping; running tasks get ${config.shutdownDeadlineMs} ms to finish\n`);
    const hardStop = setTimeout(() => {
      log.error('shutdown overran its deadline; exiting');
      process.exit(1);
    }, config.shutdownDeadlineMs + 10_000);
    hardStop.unref();
    (async () => {
      await http.close();
      await system.close();
    })().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`ora worker: ${(error as Error).message}\n`);
  process.exit(1);
});
