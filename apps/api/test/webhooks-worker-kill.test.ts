import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createWebhookReceiver, type WebhookReceiver } from '@ora/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
}

/** `node --import tsx apps/worker/src/main.ts` on the suite's Postgres and Redis, once it runs. */
async function spawnWorker(server: TestServer, tail: string[]): Promise<Worker> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: server.config.databaseUrl,
    REDIS_URL: server.config.redisUrl,
    ORA_REDIS_PREFIX: server.config.redisPrefix,
    ORA_WORKER_PORT: '0',
    ORA_WEBHOOK_ALLOW_PRIVATE: 'true',
    ORA_WEBHOOK_TIMEOUT_MS: '2000',
    ORA_EVENTS_POLL_MS: '100',
    // Deliveries whose job died with the worker are re-queued after this (the default is 30 s).
    ORA_TASK_STALE_MS: '3000',
    LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => tail.push(`stderr: ${l}`));
  const ready = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      tail.push(`stdout: ${line}`);
      if (/ORA worker .* running/.test(line)) resolve();
    });
  });
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    sleep(60_000).then(() => 'timeout' as const),
  ]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`the worker did not start (${outcome}):\n${tail.join('\n')}`);
  }
  return { child, exited };
}

describe.runIf(modes.includes('distributed'))('webhook delivery when a worker is killed (distributed)', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  const workers: Worker[] = [];
  const tail: string[] = [];

  beforeAll(async () => {
    receiver = await createWebhookReceiver();
    // The API process only: it dispatches events into deliveries; workers are separate processes.
    server = await startTestServer('distributed', {
      env: { ORA_WEBHOOK_ALLOW_PRIVATE: 'true', ORA_EVENTS_POLL_MS: '100' },
    });
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await server?.close();
    await receiver?.close();
  });

  it('loses no delivery when kill -9 hits the worker mid-delivery: another worker delivers each with the same webhook-id', async () => {
    const source = `kill-${randomUUID()}`;
    const created = await call(server, server.rootKey, 'webhooks.create', {
      name: 'kill -9',
      url: receiver.url,
      events: ['lead.created'],
      filters: { payload: { source } },
      maxRetries: 3,
      retryDelaySeconds: [1],
    });
    expect(created.status).toBe(200);
    const webhookId = created.body.data.webhook.id;

    // Every request hangs until the worker is dead, so deliveries are in flight when it dies.
    receiver.respond({ hang: true });
    const first = await spawnWorker(server, tail);
    workers.push(first);
    const leads = 12;
    for (let i = 0; i < leads; i++) {
      await call(server, server.rootKey, 'leads.create', { email: `${randomUUID()}@example.com`, source });
    }
    await receiver.waitFor(3, 30_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const inFlight = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));
    receiver.respond({ status: 200 });
    receiver.releaseHung();

    const second = await spawnWorker(server, tail);
    workers.push(second);
    const started = Date.now();
    let items: any[] = [];
    for (;;) {
      items = (await call(server, server.rootKey, 'webhooks.deliveries', { webhookId, limit: 100 })).body.data.items;
      if (items.length === leads && items.every((d) => d.status === 'success')) break;
      if (Date.now() - started > 45_000) {
        throw new Error(
          `deliveries: ${JSON.stringify(items.map((d) => [d.status, d.attemptCount]))}\n${tail.join('\n')}`,
        );
      }
      await sleep(200);
    }
    // Every delivery reached the receiver with 200, each under its one webhook-id.
    const answered = new Set(receiver.requests.slice(inFlight.size).map((r) => String(r.headers['webhook-id'])));
    for (const delivery of items) expect(answered.has(delivery.id) || inFlight.has(delivery.id)).toBe(true);
    // The attempts cut by the kill are logged as lost, and their delivery was sent again by the new worker.
    for (const id of inFlight) {
      const delivery = items.find((d) => d.id === id);
      expect(delivery.attempts.at(0).error).toMatch(/worker stopped answering/);
      expect(delivery.attempts.at(-1).statusCode).toBe(200);
      expect(answered.has(id)).toBe(true);
    }
  }, 150_000);
});
