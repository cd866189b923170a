import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { recordEvent } from '@ora/core';
import { createWebhookReceiver } from '@ora/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SseEvent {
  id: string;
  event: string;
  data: any;
}

/** A Server-Sent Events client on a real connection, parsing the stream as EventSource does. */
function openStream(baseUrl: string, key: string | null, options: { query?: string; lastEventId?: string } = {}) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let status = 0;
  let body = '';
  let buffer = '';
  let request: http.ClientRequest;
  const ended = new Promise<void>((resolveEnded) => {
    request = http.get(
      `${baseUrl}/api/ora/events${options.query ? `?${options.query}` : ''}`,
      {
        headers: {
          accept: 'text/event-stream',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
        },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (status !== 200) {
            body += chunk;
            return;
          }
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields: Record<string, string> = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else {
                const i = line.indexOf(':');
                fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
              }
            }
            if (fields.data !== undefined) {
              events.push({ id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) });
            }
            end = buffer.indexOf('\n\n');
          }
        });
        res.on('end', () => resolveEnded());
        res.on('error', () => resolveEnded());
      },
    );
    request.on('error', () => resolveEnded());
  });
  return {
    events,
    comments,
    ended,
    get status() {
      return status;
    },
    get body() {
      return body;
    },
    async waitFor(count: number, timeoutMs = 10_000) {
      const started = Date.now();
      while (events.length < count) {
        if (Date.now() - started > timeoutMs) {
          throw new Error(`got ${events.length} events, not ${count}: ${JSON.stringify(events.map((e) => e.event))}`);
        }
        await sleep(20);
      }
      return events;
    },
    async opened(timeoutMs = 10_000) {
      const started = Date.now();
      while (status === 0) {
        if (Date.now() - started > timeoutMs) throw new Error('the stream did not open');
        await sleep(10);
      }
      // The stream starts reading the log as soon as it answers; give it a moment to subscribe.
      await sleep(100);
    },
    close: () => request.destroy(),
  };
}

describe.each(modes)('events: outbox, events.list and the live stream (%s)', (mode) => {
  let server: TestServer;
  let baseUrl: string;

  beforeAll(async () => {
    server = await startTestServer(mode, {
      env: {
        ORA_EVENTS_POLL_MS: '50',
        ORA_EVENTS_HEARTBEAT_MS: '200',
        ORA_WEBHOOK_ALLOW_PRIVATE: 'true',
      },
      tasks: { worker: { concurrency: 4 }, maintenanceIntervalMs: 200 },
    });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  const lead = async (source: string, key = server.rootKey) => {
    const res = await call(server, key, 'leads.create', { email: `${randomUUID()}@example.com`, source });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data;
  };
  const key = async (scopes: string[], agentId?: string) =>
    (await call(server, server.rootKey, 'keys.create', { name: 'k', scopes, ...(agentId ? { agentId } : {}) })).body
      .data.secret as string;
  const agentIds = async () =>
    (await call(server, server.rootKey, 'agents.status', {})).body.data.agents
      .map((a: { agentId: string | null }) => a.agentId)
      .filter(Boolean) as string[];
  /** Writes an event as a domain change would, then wakes readers as the API does after a commit. */
  const emit = async (agentId: string | null, reason: string) => {
    const at = await server.system.database.db.transaction().execute((trx) =>
      recordEvent(
        trx,
        null,
        'task.waiting',
        {
          taskId: randomUUID(),
          chainId: null,
          taskType: 'test',
          title: reason,
          agentId,
          status: 'waiting',
          reason,
        },
        { agentId },
      ),
    );
    server.system.events.wake.announce();
    return at;
  };

  it('streams new events as SSE (id = seq, event = type) to a key with events:read, filtered by type', async () => {
    const source = `sse-${randomUUID()}`;
    const stream = openStream(baseUrl, server.rootKey, { query: 'types=lead.*' });
    await stream.opened();
    expect(stream.status).toBe(200);
    const first = await lead(source);
    await emit(null, 'not a lead: filtered out');
    const second = await lead(source);
    const events = await stream.waitFor(2);
    expect(events.map((e) => e.event)).toEqual(['lead.created', 'lead.created']);
    expect(events.map((e) => e.data.payload.leadId)).toEqual([first.id, second.id]);
    expect(events[0]?.id).toBe(events[0]?.data.seq);
    expect(Number(events[1]?.id)).toBeGreaterThan(Number(events[0]?.id));
    await sleep(300);
    expect(stream.events).toHaveLength(2);
    expect(stream.comments).toContain('ping');
    stream.close();
  });

  it('resumes after Last-Event-ID with exactly the events missed, in order, then goes live', async () => {
    const source = `resume-${randomUUID()}`;
    const first = openStream(baseUrl, server.rootKey, { query: 'types=lead.created' });
    await first.opened();
    await lead(source);
    const [seen] = await first.waitFor(1);
    first.close();
    const missed = [await lead(source), await lead(source), await lead(source)];
    const resumed = openStream(baseUrl, server.rootKey, { query: 'types=lead.created', lastEventId: seen?.id });
    await resumed.waitFor(3);
    expect(resumed.events.map((e) => e.data.payload.leadId)).toEqual(missed.map((l) => l.id));
    const live = await lead(source);
    await resumed.waitFor(4);
    expect(resumed.events[3]?.data.payload.leadId).toBe(live.id);
    resumed.close();

    // events.list gives the same catch-up, page by page.
    const page1 = await call(server, server.rootKey, 'events.list', {
      after: seen?.id,
      types: ['lead.created'],
      limit: 2,
    });
    expect(page1.body.data.items.map((e: any) => e.payload.leadId)).toEqual(missed.slice(0, 2).map((l) => l.id));
    const page2 = await call(server, server.rootKey, 'events.list', {
      cursor: page1.body.data.nextCursor,
      types: ['lead.created'],
      limit: 2,
    });
    expect(page2.body.data.items.map((e: any) => e.payload.leadId)).toEqual([missed[2]?.id, live.id]);
    expect(page2.body.data.nextCursor).toBeNull();
  });

  it('needs a valid key with events:read, and gives a key bound to an agent only that agent’s events', async () => {
    const none = openStream(baseUrl, null);
    await none.ended;
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe('UNAUTHORIZED');
    const noScope = openStream(baseUrl, await key(['leads:read']));
    await noScope.ended;
    expect(noScope.status).toBe(403);
    expect((await call(server, await key(['leads:read']), 'events.list', {})).status).toBe(403);
    const bad = openStream(baseUrl, server.rootKey, { query: 'types=nope.thing' });
    await bad.ended;
    expect(bad.status).toBe(400);

    const [mine, other] = await agentIds();
    if (!mine || !other) throw new Error('expected two default agents');
    const bound = await key(['events:read'], mine);
    const stream = openStream(baseUrl, bound);
    await stream.opened();
    await lead(`bound-${randomUUID()}`);
    await emit(other, 'someone else’s');
    const own = await emit(mine, 'mine');
    const [event] = await stream.waitFor(1);
    expect(event?.data).toMatchObject({ seq: own.seq, agentId: mine, type: 'task.waiting' });
    await sleep(300);
    expect(stream.events).toHaveLength(1);
    stream.close();
    const listed = await call(server, bound, 'events.list', { limit: 500 });
    expect(listed.body.data.items.every((e: any) => e.agentId === mine)).toBe(true);
    expect((await call(server, bound, 'events.list', { agentId: other })).status).toBe(403);

    // A revoked key's stream ends at the next heartbeat.
    const revocable = await call(server, server.rootKey, 'keys.create', { name: 'r', scopes: ['events:read'] });
    const live = openStream(baseUrl, revocable.body.data.secret);
    await live.opened();
    await call(server, server.rootKey, 'keys.revoke', { id: revocable.body.data.key.id });
    await live.ended;
    expect(live.comments).toContain('the key is no longer valid');
  });

  it.runIf(mode === 'distributed')(
    'never skips an event whose transaction took a lower seq but committed later (readers wait for the horizon)',
    async () => {
      const receiver = await createWebhookReceiver();
      const hook = await call(server, server.rootKey, 'webhooks.create', {
        name: 'horizon',
        url: receiver.url,
        events: ['task.waiting'],
      });
      expect(hook.status).toBe(200);
      const stream = openStream(baseUrl, server.rootKey, { query: 'types=task.waiting' });
      await stream.opened();
      const before = await call(server, server.rootKey, 'events.list', { types: ['task.waiting'], limit: 500 });
      const head = before.body.data.items.at(-1)?.seq;

      // T1 takes its seq first and stays open; T2 takes a higher seq and commits.
      const client = new pg.Client({ connectionString: server.config.databaseUrl });
      client.on('error', () => undefined); // the suite's database is dropped at the end, even after a failure
      await client.connect();
      await client.query('begin');
      const early = await client.query(
        `insert into events (type, payload, agent_id) values ('task.waiting', '{"title":"early"}', null) returning seq`,
      );
      const late = await emit(null, 'late');
      expect(Number(late.seq)).toBeGreaterThan(Number(early.rows[0].seq));
      await sleep(500);
      // Nobody may have moved past the open transaction's event.
      expect(stream.events).toHaveLength(0);
      const during = await call(server, server.rootKey, 'events.list', { types: ['task.waiting'], after: head });
      expect(during.body.data.items).toHaveLength(0);
      expect(receiver.count).toBe(0);

      await client.query('commit');
      await client.end();
      server.system.events.wake.announce();
      const events = await stream.waitFor(2);
      expect(events.map((e) => e.id)).toEqual([String(early.rows[0].seq), late.seq]);
      const after = await call(server, server.rootKey, 'events.list', { types: ['task.waiting'], after: head });
      expect(after.body.data.items.map((e: any) => e.seq)).toEqual([String(early.rows[0].seq), late.seq]);
      await receiver.waitFor(2);
      const titles = receiver.requests.map((r) => JSON.parse(r.body).data.title).sort();
      expect(titles).toEqual(['early', 'late']);
      stream.close();
      await receiver.close();
      await call(server, server.rootKey, 'webhooks.delete', { id: hook.body.data.webhook.id });
    },
  );

  it.runIf(mode === 'distributed')(
    'sends an event held back by an open transaction as soon as that transaction ends, not a poll later',
    async () => {
      // Polling every 5 s: only the wake-up and the re-reads after it can deliver in time.
      const replica = await startTestServer(mode, { sameBackendAs: server, env: { ORA_EVENTS_POLL_MS: '5000' } });
      const blocker = new pg.Client({ connectionString: server.config.databaseUrl });
      blocker.on('error', () => undefined);
      try {
        await replica.app.listen({ port: 0, host: '127.0.0.1' });
        const port = (replica.app.server.address() as { port: number }).port;
        const stream = openStream(`http://127.0.0.1:${port}`, server.rootKey, { query: 'types=lead.created' });
        await stream.opened();
        // Any open transaction with an id (here, or in another database of the same Postgres)
        // holds the horizon back: the lead's event, committed after it began, waits.
        await blocker.connect();
        await blocker.query('begin');
        await blocker.query('select pg_current_xact_id()');
        const created = await lead(`held-${randomUUID()}`);
        await sleep(400); // the wake-up has come and gone; the event is still held back
        expect(stream.events).toHaveLength(0);
        await blocker.query('commit');
        const released = Date.now();
        const [event] = await stream.waitFor(1, 4000);
        expect(event?.data.payload.leadId).toBe(created.id);
        expect(Date.now() - released).toBeLessThan(1500);
        stream.close();
      } finally {
        await blocker.end().catch(() => undefined);
        await replica.close();
      }
    },
  );

  it.runIf(mode === 'distributed')('serves the same stream from another replica, woken through Redis', async () => {
    const replica = await startTestServer(mode, {
      sameBackendAs: server,
      env: { ORA_EVENTS_POLL_MS: '5000', ORA_EVENTS_HEARTBEAT_MS: '200' },
    });
    try {
      await replica.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (replica.app.server.address() as { port: number }).port;
      const stream = openStream(`http://127.0.0.1:${port}`, server.rootKey, { query: 'types=lead.created' });
      await stream.opened();
      const started = Date.now();
      const created = await lead(`replica-${randomUUID()}`);
      const [event] = await stream.waitFor(1, 4000);
      // The replica polls only every 5 s: arriving sooner means the Redis wake-up reached it.
      expect(Date.now() - started).toBeLessThan(2500);
      expect(event?.data.payload.leadId).toBe(created.id);
      // Closing the replica ends its open streams cleanly.
      const closing = replica.close();
      await stream.ended;
      expect(stream.comments).toContain('the server is shutting down');
      await closing;
    } catch (error) {
      await replica.close().catch(() => undefined);
      throw error;
    }
  });

  it('ends open streams cleanly when the server shuts down', async () => {
    const stream = openStream(baseUrl, server.rootKey);
    await stream.opened();
    const closed = server.close();
    await stream.ended;
    expect(stream.comments).toContain('the server is shutting down');
    await closed;
    server = undefined as unknown as TestServer;
  });
});
