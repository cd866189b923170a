import { randomUUID } from 'node:crypto';
import { verifyWebhook } from '@ora/client';
import { createWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '@ora/testkit';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Headers of a received request as the standardwebhooks library wants them. */
const signatureHeaders = (r: ReceivedRequest) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe.each(modes)('webhooks (%s)', (mode) => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    server = await startTestServer(mode, {
      env: {
        ORA_WEBHOOK_ALLOW_PRIVATE: 'true',
        ORA_WEBHOOK_TIMEOUT_MS: '1000',
        ORA_WEBHOOK_MAX_RESPONSE_BYTES: '65536',
        ORA_WEBHOOK_DISABLE_AFTER_FAILURES: '3',
        ORA_WEBHOOK_DISABLE_AFTER_SECONDS: '0',
        ORA_EVENTS_POLL_MS: '50',
      },
      tasks: { worker: { concurrency: 8 }, maintenanceIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await server?.close();
  });

  async function receiver() {
    const r = await createWebhookReceiver();
    receivers.push(r);
    return r;
  }

  /** A webhook for lead.created events of one `source` only, so tests do not see each other's. */
  async function subscribe(url: string, extra: Record<string, unknown> = {}) {
    const source = `test-${randomUUID()}`;
    const res = await call(server, server.rootKey, 'webhooks.create', {
      name: `hook ${source}`,
      url,
      events: ['lead.created'],
      filters: { payload: { source } },
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { webhook: res.body.data.webhook, secret: res.body.data.secret as string, source };
  }

  const lead = async (source: string, name = 'Ada') => {
    const res = await call(server, server.rootKey, 'leads.create', {
      email: `${randomUUID()}@example.com`,
      name,
      source,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data;
  };

  const deliveries = async (webhookId: string) =>
    (await call(server, server.rootKey, 'webhooks.deliveries', { webhookId })).body.data.items;

  it('delivers a signed event that the standardwebhooks library and verifyWebhook accept, unicode included', async () => {
    const r = await receiver();
    const { webhook, secret, source } = await subscribe(r.url);
    const created = await lead(source, 'Zoë 日本 🚀 — ∑');
    const [request] = await r.waitFor(1);
    if (!request) throw new Error('no request');
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    const body = new Webhook(secret).verify(request.body, signatureHeaders(request)) as Record<string, any>;
    expect(body.type).toBe('lead.created');
    expect(body.data).toMatchObject({ leadId: created.id, name: 'Zoë 日本 🚀 — ∑', source });
    expect(verifyWebhook(secret, request.headers, request.rawBody)).toEqual(body);

    // A one-byte change of body, id or timestamp fails.
    const h = signatureHeaders(request);
    const bytes = Buffer.from(request.rawBody);
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 1;
    expect(() => new Webhook(secret).verify(bytes.toString('utf8'), h)).toThrow();
    // Change the id's last character to another one (a fixed '0' would be no change 1 time in 16).
    const id = h['webhook-id'];
    const changedId = `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
    expect(() => new Webhook(secret).verify(request.body, { ...h, 'webhook-id': changedId })).toThrow();
    const ts = String(Number(h['webhook-timestamp']) + 1);
    expect(() => new Webhook(secret).verify(request.body, { ...h, 'webhook-timestamp': ts })).toThrow();

    const [delivery] = await until('the success to be logged', async () => {
      const items = await deliveries(webhook.id);
      return items[0]?.status === 'success' ? items : null;
    });
    expect(delivery.id).toBe(request.headers['webhook-id']);
    expect(delivery.eventType).toBe('lead.created');
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, statusCode: 200, responseExcerpt: 'ok', error: null });
    expect(delivery.attempts[0].latencyMs).toBeGreaterThanOrEqual(0);
    const stats = (await call(server, server.rootKey, 'webhooks.get', { id: webhook.id })).body.data;
    expect(stats).toMatchObject({ totalDeliveries: 1, successfulDeliveries: 1, failedDeliveries: 0 });
    expect(stats.lastSuccessAt).not.toBeNull();
  });

  it('gives a receiver that fails twice three attempts on the configured schedule, with one stable webhook-id', async () => {
    const r = await receiver();
    r.enqueue({ status: 500, body: 'boom' }, { status: 502 });
    const { webhook, source } = await subscribe(r.url, { maxRetries: 3, retryDelaySeconds: [1, 2] });
    await lead(source);
    const requests = await r.waitFor(3, 15_000);
    const ids = new Set(requests.map((q) => q.headers['webhook-id']));
    expect(ids.size).toBe(1);
    const [a, b, c] = requests.map((q) => q.receivedAt) as [number, number, number];
    // 1 s then 2 s, each with up to 10% jitter (plus scheduling slack), never earlier.
    expect(b - a).toBeGreaterThanOrEqual(1000 - 20);
    expect(b - a).toBeLessThan(1100 + 900);
    expect(c - b).toBeGreaterThanOrEqual(2000 - 20);
    expect(c - b).toBeLessThan(2200 + 900);
    const [delivery] = await until('the third attempt to be logged', async () => {
      const items = await deliveries(webhook.id);
      return items[0]?.status === 'success' ? items : null;
    });
    expect(delivery.attempts.map((x: { statusCode: number }) => x.statusCode)).toEqual([500, 502, 200]);
    expect(delivery.attempts[0].responseExcerpt).toBe('boom');
    expect(delivery.attemptCount).toBe(3);
    await sleep(300);
    expect(r.count).toBe(3);
  });

  it('honours Retry-After on 429 and 503 instead of the schedule', async () => {
    const r = await receiver();
    r.enqueue({ status: 429, headers: { 'retry-after': '2' } }, { status: 503, headers: { 'retry-after': '1' } });
    const { source } = await subscribe(r.url, { maxRetries: 3, retryDelaySeconds: [5] });
    await lead(source);
    const requests = await r.waitFor(3, 15_000);
    const [a, b, c] = requests.map((q) => q.receivedAt) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(2000 - 20);
    expect(b - a).toBeLessThan(4000);
    expect(c - b).toBeGreaterThanOrEqual(1000 - 20);
    expect(c - b).toBeLessThan(3000);
  });

  it('stops after max_retries and logs the delivery as dead', async () => {
    const r = await receiver();
    r.respond({ status: 500 });
    const { webhook, source } = await subscribe(r.url, { maxRetries: 1, retryDelaySeconds: [1] });
    await lead(source);
    await r.waitFor(2);
    const [delivery] = await until('the delivery to die', async () => {
      const items = await deliveries(webhook.id);
      return items[0]?.status === 'dead' ? items : null;
    });
    expect(delivery.attempts).toHaveLength(2);
    await sleep(1500);
    expect(r.count).toBe(2);
    const stats = (await call(server, server.rootKey, 'webhooks.get', { id: webhook.id })).body.data;
    expect(stats).toMatchObject({ failedDeliveries: 1, consecutiveFailures: 2, isActive: true });
  });

  it('disables the webhook on 410 Gone and says so with a webhook.disabled event', async () => {
    const r = await receiver();
    r.respond({ status: 410 });
    const { webhook, source } = await subscribe(r.url, { maxRetries: 3, retryDelaySeconds: [1] });
    await lead(source);
    await r.waitFor(1);
    const disabled = await until('the webhook to be disabled', async () => {
      const data = (await call(server, server.rootKey, 'webhooks.get', { id: webhook.id })).body.data;
      return data.isActive ? null : data;
    });
    expect(disabled.disabledReason).toMatch(/410/);
    const events = await call(server, server.rootKey, 'events.list', { types: ['webhook.disabled'], limit: 500 });
    expect(events.body.data.items.some((e: any) => e.payload.webhookId === webhook.id)).toBe(true);
    expect((await deliveries(webhook.id))[0].status).toBe('dead');
    await lead(source);
    await sleep(800);
    expect(r.count).toBe(1);

    // Re-enabled, it works again; a replay sends the dead delivery with its own webhook-id.
    r.respond({ status: 200 });
    await call(server, server.rootKey, 'webhooks.update', { id: webhook.id, isActive: true });
    const dead = (await deliveries(webhook.id)).find((d: any) => d.status === 'dead');
    const replay = await call(server, server.rootKey, 'webhooks.replay', { deliveryId: dead.id });
    expect(replay.body.data).toEqual({ replayed: 1, deliveryIds: [dead.id] });
    const [, again] = await r.waitFor(2);
    expect(again?.headers['webhook-id']).toBe(dead.id);
  });

  it('disables a webhook that fails continuously past the threshold, with a webhook.disabled event', async () => {
    const r = await receiver();
    r.respond({ status: 500 });
    const { webhook, source } = await subscribe(r.url, { maxRetries: 0 });
    for (let i = 0; i < 3; i++) await lead(source);
    await r.waitFor(3);
    const disabled = await until('the webhook to be disabled', async () => {
      const data = (await call(server, server.rootKey, 'webhooks.get', { id: webhook.id })).body.data;
      return data.isActive ? null : data;
    });
    expect(disabled.disabledReason).toMatch(/failing continuously: 3 failed attempts/);
    expect(disabled.consecutiveFailures).toBe(3);
    const events = await call(server, server.rootKey, 'events.list', { types: ['webhook.*'], limit: 500 });
    const event = events.body.data.items.find((e: any) => e.payload.webhookId === webhook.id);
    expect(event).toMatchObject({ type: 'webhook.disabled', payload: { url: r.url } });
  });

  it('never follows a redirect: a 3xx is a failed attempt and the target gets nothing', async () => {
    const canary = await receiver();
    const r = await receiver();
    r.respond({ status: 302, headers: { location: canary.url } });
    const { webhook, source } = await subscribe(r.url, { maxRetries: 0 });
    await lead(source);
    await r.waitFor(1);
    const [delivery] = await until('the failure to be logged', async () => {
      const items = await deliveries(webhook.id);
      return items[0]?.status === 'dead' ? items : null;
    });
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 302 });
    expect(delivery.attempts[0].error).toMatch(/redirect not followed/);
    expect(canary.count).toBe(0);
  });

  it('cuts a stalled receiver off at the timeout, reads a huge answer only up to the cap, and refuses a cut connection', async () => {
    const r = await receiver();
    r.enqueue({ hang: true }, { destroy: true }, { status: 200, body: 'x'.repeat(2 * 1024 * 1024) });
    const { webhook, source } = await subscribe(r.url, { maxRetries: 2, retryDelaySeconds: [1] });
    await lead(source);
    await r.waitFor(3, 15_000);
    const [delivery] = await until('the third attempt to be logged', async () => {
      const items = await deliveries(webhook.id);
      return items[0]?.status === 'success' ? items : null;
    });
    const [hung, cut, huge] = delivery.attempts;
    expect(hung.error).toMatch(/within 1000 ms/);
    expect(hung.latencyMs).toBeGreaterThanOrEqual(990);
    expect(cut.statusCode).toBeNull();
    expect(cut.error).toMatch(/closed the connection before answering|reset the connection/);
    expect(huge.statusCode).toBe(200);
    expect(huge.responseExcerpt.length).toBeLessThanOrEqual(1025);
    r.releaseHung();
  });

  it('signs with the old and the new secret during a rotation, then with the new one only', async () => {
    const r = await receiver();
    const { webhook, secret: old, source } = await subscribe(r.url);
    const rotated = await call(server, server.rootKey, 'webhooks.rotate_secret', {
      id: webhook.id,
      gracePeriodSeconds: 3600,
    });
    const fresh = rotated.body.data.secret as string;
    expect(fresh).not.toBe(old);
    expect(rotated.body.data.webhook.previousSecretExpiresAt).not.toBeNull();
    await lead(source);
    const [first] = await r.waitFor(1);
    if (!first) throw new Error('no request');
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(fresh).verify(first.body, signatureHeaders(first))).toBeTruthy();
    expect(new Webhook(old).verify(first.body, signatureHeaders(first))).toBeTruthy();

    await call(server, server.rootKey, 'webhooks.rotate_secret', { id: webhook.id, gracePeriodSeconds: 0 });
    const newest = (
      await call(server, server.rootKey, 'webhooks.rotate_secret', { id: webhook.id, gracePeriodSeconds: 0 })
    ).body.data.secret as string;
    await lead(source);
    const [, second] = await r.waitFor(2);
    if (!second) throw new Error('no request');
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(new Webhook(newest).verify(second.body, signatureHeaders(second))).toBeTruthy();
    expect(() => new Webhook(fresh).verify(second.body, signatureHeaders(second))).toThrow();
  });

  it('webhooks.test sends a signed webhook.test now and answers how the receiver replied', async () => {
    const r = await receiver();
    const { webhook, secret } = await subscribe(r.url);
    const ok = await call(server, server.rootKey, 'webhooks.test', { id: webhook.id });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ status: 'success', eventType: 'webhook.test', eventSeq: null });
    expect(ok.body.data.attempts[0]).toMatchObject({ statusCode: 200 });
    const [request] = r.requests;
    if (!request) throw new Error('no request');
    expect(new Webhook(secret).verify(request.body, signatureHeaders(request))).toMatchObject({ type: 'webhook.test' });
    r.respond({ status: 500, body: 'nope' });
    const bad = await call(server, server.rootKey, 'webhooks.test', { id: webhook.id });
    expect(bad.body.data).toMatchObject({ status: 'dead', lastStatusCode: 500 });
    expect(bad.body.data.attempts[0]).toMatchObject({ statusCode: 500, responseExcerpt: 'nope', error: 'HTTP 500' });
    const stats = (await call(server, server.rootKey, 'webhooks.get', { id: webhook.id })).body.data;
    expect(stats.consecutiveFailures).toBe(0);
  });

  it('replays every delivery that failed for good since a time, each with its own webhook-id', async () => {
    const r = await receiver();
    r.respond({ status: 500 });
    const since = new Date(Date.now() - 1000).toISOString();
    const { webhook, source } = await subscribe(r.url, { maxRetries: 0 });
    await lead(source);
    await lead(source);
    await r.waitFor(2);
    await until('both deliveries to die', async () => {
      const items = await deliveries(webhook.id);
      return items.length === 2 && items.every((d: any) => d.status === 'dead');
    });
    r.respond({ status: 204 });
    const replay = await call(server, server.rootKey, 'webhooks.replay', { webhookId: webhook.id, since });
    expect(replay.body.data.replayed).toBe(2);
    const requests = await r.waitFor(4);
    expect(new Set(requests.slice(2).map((q) => q.headers['webhook-id']))).toEqual(
      new Set(requests.slice(0, 2).map((q) => q.headers['webhook-id'])),
    );
    await until('both replays to succeed', async () => {
      const items = await deliveries(webhook.id);
      return items.every((d: any) => d.status === 'success');
    });
    const again = await call(server, server.rootKey, 'webhooks.replay', {
      deliveryId: replay.body.data.deliveryIds[0],
    });
    expect(again.status).toBe(200);
  });

  it('manages webhooks: validation, no secret after create, scopes, pause, delete, agent-bound keys', async () => {
    const r = await receiver();
    const bad = await call(server, server.rootKey, 'webhooks.create', {
      name: 'x',
      url: r.url,
      events: ['nope.event'],
    });
    expect(bad.status).toBe(400);
    const ftp = await call(server, server.rootKey, 'webhooks.create', {
      name: 'x',
      url: 'ftp://example.com',
      events: ['*'],
    });
    expect(ftp.status).toBe(400);
    const { webhook, source } = await subscribe(r.url);
    const got = await call(server, server.rootKey, 'webhooks.get', { id: webhook.id });
    expect(JSON.stringify(got.body)).not.toContain('whsec_');
    const listed = await call(server, server.rootKey, 'webhooks.list', { limit: 200 });
    expect(listed.body.data.items.some((w: any) => w.id === webhook.id)).toBe(true);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    const reader = await call(server, server.rootKey, 'keys.create', { name: 'reader', scopes: ['webhooks:read'] });
    const readerKey = reader.body.data.secret;
    expect((await call(server, readerKey, 'webhooks.get', { id: webhook.id })).status).toBe(200);
    expect((await call(server, readerKey, 'webhooks.delete', { id: webhook.id })).status).toBe(403);

    const agents = await call(server, server.rootKey, 'agents.status', {});
    const agentId = agents.body.data.agents.find((a: { agentId: string | null }) => a.agentId)?.agentId;
    expect(agentId).toBeTruthy();
    const bound = await call(server, server.rootKey, 'keys.create', {
      name: 'bound',
      scopes: ['webhooks:*'],
      agentId,
    });
    const boundKey = bound.body.data.secret;
    expect((await call(server, boundKey, 'webhooks.get', { id: webhook.id })).status).toBe(404);
    const own = await call(server, boundKey, 'webhooks.create', { name: 'mine', url: r.url, events: ['task.*'] });
    expect(own.body.data.webhook.agentId).toBe(agentId);
    const foreign = await call(server, boundKey, 'webhooks.create', {
      name: 'theirs',
      url: r.url,
      events: ['task.*'],
      filters: { agentIds: [randomUUID()] },
    });
    expect(foreign.status).toBe(403);

    const paused = await call(server, server.rootKey, 'webhooks.update', { id: webhook.id, isActive: false });
    expect(paused.body.data).toMatchObject({ isActive: false, disabledReason: 'paused' });
    await lead(source);
    await sleep(600);
    expect(r.count).toBe(0);
    const deleted = await call(server, server.rootKey, 'webhooks.delete', { id: webhook.id });
    expect(deleted.body.data).toEqual({ id: webhook.id, deleted: true });
    expect((await call(server, server.rootKey, 'webhooks.get', { id: webhook.id })).status).toBe(404);
  });
});
