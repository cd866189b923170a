/**
 * `pnpm bench webhooks [--events 4000] [--warmup 400] [--rounds 3] [--concurrency 32] [--connections 64]
 *   [--rate 200] [--seconds 5]`
 *
 * Webhook delivery end to end on real Postgres + Redis, in this one process: events committed to
 * the outbox in bursts (500 per transaction), fanned out into delivery rows by the
 * dispatcher, put on the BullMQ `webhooks` queue and delivered by the job consumers
 * (ORA_WEBHOOK_CONCURRENCY jobs, at most 64 connections to a host) as signed POSTs through ORA's
 * SSRF-guarded HTTP client to a local receiver (packages/testkit). Beside it, in the same process
 * and the same rounds, a raw loop: signed POSTs of the same body to the same receiver, 64 in
 * flight on a keep-alive agent, nothing else. Rounds alternate raw and ORA, so load from other work
 * on the machine hits both; the figure is the round with the median ratio.
 *
 * Latency: event-to-delivery (receipt minus the event's created_at) at a steady `--rate` of
 * one-event transactions.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '@ora/api/env';
import { createSystem, type System } from '@ora/api/system';
import { createWebhook, recordEvent, recordEvents, systemActor, webhookHeaders } from '@ora/core';
import { createWebhookReceiver, type ReceivedRequest } from '@ora/testkit';
import { type BenchReport, createBenchDatabase, createBenchRedisPrefix, type Figure, progress, repoRoot } from './lib';

// The root package has no logger of its own: use the API's pino, as the API does.
const pino = createRequire(path.join(repoRoot, 'apps', 'api', 'package.json'))('pino') as (options: {
  level: string;
}) => Parameters<typeof createSystem>[1];

export const description =
  'event-to-delivery through outbox, dispatcher, BullMQ and signed POSTs, against a raw signed POST loop';

const TARGET = 0.5;
/** Events per transaction in the throughput runs: a burst, as a workflow run or an import makes. */
const BURST_BATCH = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A lead.created payload of the size ORA sends. */
function leadPayload(i: number, source: string) {
  return {
    leadId: '5d6b4a1e-3c1f-4f0e-9d3a-7a1b2c3d4e5f',
    email: `reader${i}@example.com`,
    name: `Reader Number ${i} — Zoë`,
    source,
  };
}

/** Signed POSTs of one body, `inFlight` at a time on a keep-alive agent: the most the receiver takes. */
async function rawLoop(url: string, count: number, inFlight: number, body: string, secret: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const target = new URL(url);
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const headers = webhookHeaders([secret], `msg_${i}`, Math.floor(Date.now() / 1000), body);
      const request = http.request(
        {
          hostname: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 200 ? resolve() : reject(new Error(`the receiver answered ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await post(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return count / seconds;
}

export async function run(args: string[]): Promise<BenchReport> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: '4000' },
      warmup: { type: 'string', default: '400' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '32' },
      connections: { type: 'string', default: '64' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '5' },
    },
  });
  const number = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a number > 0 (got "${value}")`);
    return n;
  };
  const count = Math.round(number('events', values.events));
  const warmup = Math.round(number('warmup', values.warmup));
  const rounds = Math.round(number('rounds', values.rounds));
  const concurrency = Math.round(number('concurrency', values.concurrency));
  const connections = Math.round(number('connections', values.connections));
  const rate = number('rate', values.rate);
  const pacedSeconds = number('seconds', values.seconds);

  // The receiver parses every body in both runs, and notes when each paced event arrived.
  let received = 0;
  const latencies: number[] = [];
  let measuring = false;
  const receiver = await createWebhookReceiver({
    record: false,
    onRequest: (request: ReceivedRequest) => {
      received += 1;
      const body = JSON.parse(request.body) as { timestamp?: string };
      if (measuring && body.timestamp) latencies.push(request.receivedAt - Date.parse(body.timestamp));
    },
  });
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const sampleBody = JSON.stringify({
    id: '0b8f1f0e-6a43-4b8e-9b8a-2f2f6c1f1a11',
    seq: '123456',
    type: 'lead.created',
    version: 1,
    timestamp: new Date().toISOString(),
    agentId: null,
    taskId: null,
    data: leadPayload(1, 'bench'),
  });

  const database = await createBenchDatabase('webhooks');
  const redis = createBenchRedisPrefix('webhooks');
  let system: System | null = null;
  try {
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      ORA_REDIS_PREFIX: redis.prefix,
      ORA_WEBHOOK_ALLOW_PRIVATE: 'true',
      ORA_WEBHOOK_CONCURRENCY: String(concurrency),
      ORA_DB_POOL_SIZE: '20',
      ORA_RUN_WORKER: 'true',
      LOG_LEVEL: 'warn',
    });
    progress('starting ORA (Postgres + Redis; dispatcher and webhook consumers in this process)');
    system = await createSystem(config, pino({ level: 'warn' }), {
      tasks: { worker: { concurrency: 4 }, maintenanceIntervalMs: 1000 },
    });
    const ora = system;
    await createWebhook(ora.events.webhookDeps, systemActor, {
      name: 'bench',
      url: receiver.url,
      events: ['lead.created'],
      isActive: true,
    });

    /** Writes n events, BURST_BATCH per transaction, waking readers after each commit as the API does. */
    const burst = async (n: number, tag: string) => {
      for (let from = 0; from < n; from += BURST_BATCH) {
        const batch = Array.from({ length: Math.min(BURST_BATCH, n - from) }, (_, j) => ({
          type: 'lead.created' as const,
          payload: leadPayload(from + j, tag),
        }));
        await ora.database.db.transaction().execute((trx) => recordEvents(trx, null, batch));
        ora.events.wake.announce();
      }
    };
    const waitForReceived = async (n: number, what: string) => {
      const started = performance.now();
      while (received < n) {
        if (performance.now() - started > 300_000) throw new Error(`${what}: ${received} of ${n} arrived in 5 minutes`);
        await sleep(2);
      }
    };
    const oraRun = async (n: number, tag: string) => {
      received = 0;
      const started = performance.now();
      await burst(n, tag);
      await waitForReceived(n, tag);
      return n / ((performance.now() - started) / 1000);
    };

    progress(`warm-up: ${warmup} raw POSTs, ${warmup} ORA deliveries`);
    await rawLoop(receiver.url, warmup, connections, sampleBody, secret);
    await oraRun(warmup, 'warmup');

    const raws: number[] = [];
    const oras: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      raws.push(await rawLoop(receiver.url, count, connections, sampleBody, secret));
      oras.push(await oraRun(count, `round${round}`));
      const ratio = (oras.at(-1) as number) / (raws.at(-1) as number);
      progress(
        `round ${round}/${rounds}: raw ${(raws.at(-1) as number).toFixed(0)} POSTs/s, ORA ${(oras.at(-1) as number).toFixed(0)} deliveries/s (${(ratio * 100).toFixed(0)}%)`,
      );
    }

    const paced = Math.round(rate * pacedSeconds);
    progress(`latency: ${paced} events at ${rate}/s, one per transaction`);
    received = 0;
    measuring = true;
    const pacedStart = performance.now();
    for (let i = 0; i < paced; i++) {
      const wait = pacedStart + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      await ora.database.db
        .transaction()
        .execute((trx) => recordEvent(trx, null, 'lead.created', leadPayload(i, 'paced')));
      ora.events.wake.announce();
    }
    await waitForReceived(paced, 'latency');
    measuring = false;
    latencies.sort((a, b) => a - b);

    // Every delivery must have ended in success (its outcome is written just after the receipt).
    const total = warmup + rounds * count + paced;
    let notDone = total;
    for (let tries = 0; tries < 200 && notDone > 0; tries++) {
      const row = await ora.database.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'success')
        .executeTakeFirstOrThrow();
      notDone = total - Number(row.n);
      if (notDone > 0) await sleep(50);
    }
    const invalid = notDone > 0 ? `${notDone} of ${total} deliveries did not end in success` : undefined;

    // Each round pairs a raw run with the ORA run right after it, so load from other work on the
    // machine hits both alike: the figure is the round whose ratio is the median.
    const byRatio = oras.map((o, i) => ({ i, ratio: o / (raws[i] as number) })).sort((a, b) => a.ratio - b.ratio);
    const middle = (byRatio[Math.floor(byRatio.length / 2)] as { i: number }).i;
    const figures: Figure[] = [
      {
        name: `deliveries/s (${concurrency} jobs, ≤ ${connections} connections) vs raw signed POSTs (${connections} in flight)`,
        unit: 'req/s',
        ours: oras[middle] as number,
        baseline: raws[middle] as number,
        higherIsBetter: true,
        target: { on: 'ratio', atLeast: TARGET },
        ...(invalid ? { invalid } : {}),
      },
      {
        name: `event-to-delivery p50 at ${rate} events/s`,
        unit: 'ms',
        ours: percentile(latencies, 50),
        baseline: null,
        higherIsBetter: false,
      },
      {
        name: `event-to-delivery p99 at ${rate} events/s`,
        unit: 'ms',
        ours: percentile(latencies, 99),
        baseline: null,
        higherIsBetter: false,
      },
    ];
    return {
      summary:
        'Webhook delivery end to end on Postgres + Redis in one process (events committed to the outbox, fanned out by ' +
        'the dispatcher, BullMQ `webhooks` jobs, signed POSTs through the SSRF-guarded client) to a local receiver, beside ' +
        'a raw loop of signed POSTs of the same body to the same receiver, in the same rounds. "req/s" reads as deliveries (POSTs) per second.',
      settings: [
        `${rounds} rounds, each ${count} raw POSTs then ${count} ORA deliveries, after ${warmup} of each as warm-up; ` +
          'the figure is the round with the median ratio',
        `ORA: events written in bursts of ${BURST_BATCH} per transaction, timed from the first write to the last receipt; ` +
          `ORA_WEBHOOK_CONCURRENCY=${concurrency} (a job carries up to 50 deliveries of a burst), at most 64 connections to a host`,
        `raw: ${connections} POSTs in flight on a keep-alive agent, each HMAC-signed, no database or queue`,
        `latency: ${paced} events at ${rate}/s, one per transaction; receipt time minus the event's created_at`,
        'receiver: packages/testkit createWebhookReceiver in this process, parsing every body (both runs)',
      ],
      figures,
      notes: [
        `rounds (raw POSTs/s, ORA deliveries/s): ${raws.map((r, i) => `${r.toFixed(0)}/${(oras[i] as number).toFixed(0)}`).join(', ')}`,
        'Per delivery ORA writes the delivery row, claims it (one UPDATE for the claims of a tick), POSTs it, and writes the ' +
          "outcome, the attempt log and the webhook's stats in one statement per tick; a BullMQ job carries a few deliveries.",
        'Latency includes the readers’ horizon (an event is read once every transaction older than it has ended) and the ' +
          'dispatcher’s wake-up after each commit.',
      ],
    };
  } finally {
    await system?.close();
    await receiver.close();
    await database.drop();
    await redis.clear();
  }
}
