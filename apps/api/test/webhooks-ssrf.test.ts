import { randomUUID } from 'node:crypto';
import type { ResolvedAddress } from '@ora/core';
import { createWebhookReceiver, type WebhookReceiver } from '@ora/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** DNS as the server sees it: the test changes the answers between create and delivery. */
const answers = new Map<string, ResolvedAddress[]>();
const resolve = async (host: string): Promise<ResolvedAddress[]> => {
  const found = answers.get(host);
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};
const PUBLIC: ResolvedAddress = { address: '93.184.216.34', family: 4 };

describe.each(modes)('the webhook SSRF guard, private targets not allowed (%s)', (mode) => {
  let server: TestServer;
  let canary: WebhookReceiver;
  let canary6: WebhookReceiver | null = null;

  beforeAll(async () => {
    // Canaries on loopback: a request reaching either is a guard that let one through.
    canary = await createWebhookReceiver({ host: '127.0.0.1' });
    canary6 = await createWebhookReceiver({ host: '::1' }).catch(() => null);
    server = await startTestServer(mode, {
      env: { ORA_WEBHOOK_ALLOW_PRIVATE: 'false', ORA_WEBHOOK_TIMEOUT_MS: '1000', ORA_EVENTS_POLL_MS: '50' },
      tasks: { worker: { concurrency: 4 }, maintenanceIntervalMs: 200 },
      webhookResolver: resolve,
    });
  });
  afterAll(async () => {
    await server?.close();
    expect(canary.count).toBe(0);
    expect(canary6?.count ?? 0).toBe(0);
    await canary?.close();
    await canary6?.close();
  });

  const create = (url: string, extra: Record<string, unknown> = {}) =>
    call(server, server.rootKey, 'webhooks.create', { name: 'ssrf', url, events: ['lead.created'], ...extra });

  it('refuses loopback in every spelling, and private, link-local, unique-local, CGNAT, unspecified and multicast targets', async () => {
    const port = canary.port;
    const port6 = canary6?.port ?? port;
    const urls = [
      `http://127.0.0.1:${port}/`,
      `http://2130706433:${port}/`,
      `http://0177.0.0.1:${port}/`,
      `http://0x7f.1:${port}/`,
      `http://0x7f000001:${port}/`,
      `http://127.1:${port}/`,
      `http://127.0.1:${port}/`,
      `http://017700000001:${port}/`,
      `http://[::1]:${port6}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://[::ffff:7f00:1]:${port}/`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${port}/`,
      `http://0.0.0.0:${port}/`,
      `http://[::]:${port}/`,
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://100.64.0.1/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://224.0.0.1/',
      'http://[ff02::1]/',
    ];
    for (const url of urls) {
      const res = await create(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.message, url).toMatch(/may not reach/);
    }
  });

  it('refuses a name when any address it resolves to is private, and one that does not resolve', async () => {
    answers.set('localhost.test', [{ address: '127.0.0.1', family: 4 }]);
    answers.set('metadata.test', [{ address: '169.254.169.254', family: 4 }]);
    answers.set('mixed.test', [PUBLIC, { address: '::1', family: 6 }]);
    answers.set('mapped.test', [{ address: '::ffff:10.1.2.3', family: 6 }]);
    for (const host of ['localhost.test', 'metadata.test', 'mixed.test', 'mapped.test']) {
      const res = await create(`http://${host}:${canary.port}/hook`);
      expect(res.status, host).toBe(400);
      expect(res.body.error.message).toMatch(/may not reach/);
    }
    const missing = await create('http://nowhere.test/hook');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/does not resolve/);
  });

  it('checks again at every delivery: a DNS answer that turns private after create reaches nothing', async () => {
    const host = `rebind-${randomUUID().slice(0, 8)}.test`;
    answers.set(host, [PUBLIC]);
    const source = `ssrf-${randomUUID()}`;
    const created = await create(`http://${host}:${canary.port}/hook`, {
      filters: { payload: { source } },
      maxRetries: 1,
      retryDelaySeconds: [1],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const webhookId = created.body.data.webhook.id;

    // Now the name points at the canary on loopback (and, for good measure, a public address too).
    answers.set(host, [{ address: '127.0.0.1', family: 4 }, PUBLIC]);
    await call(server, server.rootKey, 'leads.create', { email: `${randomUUID()}@example.com`, source });
    const started = Date.now();
    let delivery: any;
    for (;;) {
      const items = (await call(server, server.rootKey, 'webhooks.deliveries', { webhookId })).body.data.items;
      delivery = items[0];
      if (delivery?.status === 'dead') break;
      if (Date.now() - started > 15_000) throw new Error(`delivery is ${delivery?.status}`);
      await sleep(100);
    }
    expect(delivery.attempts).toHaveLength(2);
    for (const attempt of delivery.attempts) {
      expect(attempt.statusCode).toBeNull();
      expect(attempt.error).toMatch(/127\.0\.0\.1 \(loopback\), which webhooks may not reach/);
    }
    const test = await call(server, server.rootKey, 'webhooks.test', { id: webhookId });
    expect(test.body.data.attempts[0].error).toMatch(/may not reach/);

    // An update to a private target is refused like a create.
    const update = await call(server, server.rootKey, 'webhooks.update', {
      id: webhookId,
      url: `http://0x7f.1:${canary.port}/`,
    });
    expect(update.status).toBe(400);
    expect(canary.count).toBe(0);
  });
});
