import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/openapi';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

describe.each(modes)('the action API (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode);
  });
  afterAll(async () => {
    await server?.close();
  });

  async function newKey(data: Record<string, unknown> = {}) {
    const created = await call(server, server.rootKey, 'keys.create', { name: 'test key', ...data });
    expect(created.status).toBe(200);
    return created.body.data as { key: { id: string; prefix: string }; secret: string };
  }

  it('answers keys.list to the bootstrap key with the success envelope and a request id', async () => {
    const res = await call(server, server.rootKey, 'keys.list');
    expect(res.status).toBe(200);
    expect(res.body.data.items.length).toBeGreaterThanOrEqual(1);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(res.body)).not.toContain('key_hash');
  });

  it('accepts the action in the path as well as in the body', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/ora/keys.whoami',
      headers: { authorization: `Bearer ${server.rootKey}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.scopes).toEqual(['*']);
  });

  it('keeps a well-formed incoming x-request-id', async () => {
    const res = await call(server, server.rootKey, 'keys.whoami', {}, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
    expect(res.body.requestId).toBe('trace-abc.123');
  });

  it('refuses a missing, malformed or unknown key with 401 before reading the body', async () => {
    for (const key of [null, 'not-a-key', 'ora_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await call(server, key, 'keys.list');
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
      expect(res.body.requestId).toBeTruthy();
    }
    const malformedBodyNoKey = await server.app.inject({ method: 'POST', url: '/api/ora', payload: '{oops' });
    expect(malformedBodyNoKey.statusCode).toBe(401);
  });

  it('answers 403 FORBIDDEN to a key lacking the action scope', async () => {
    const { secret } = await newKey({ scopes: ['tasks:read'] });
    const res = await call(server, secret, 'keys.list');
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'keys:read' } });
    expect((await call(server, secret, 'keys.whoami')).status).toBe(200);
  });

  it('lets <domain>:* grant both read and write', async () => {
    const { secret } = await newKey({ scopes: ['keys:*'] });
    expect((await call(server, secret, 'keys.list')).status).toBe(200);
    expect((await call(server, secret, 'keys.create', { name: 'child', scopes: ['keys:read'] })).status).toBe(200);
  });

  it('never lets a key mint a key stronger than itself', async () => {
    const { secret } = await newKey({ scopes: ['keys:write', 'keys:read'] });
    const res = await call(server, secret, 'keys.create', { name: 'escalate', scopes: ['*'] });
    expect(res.status).toBe(403);
    const ok = await call(server, secret, 'keys.create', { name: 'narrower', scopes: ['keys:read'] });
    expect(ok.status).toBe(200);
  });

  it('answers 401 after revoke, and records the reason', async () => {
    const { key, secret } = await newKey();
    expect((await call(server, secret, 'keys.whoami')).status).toBe(200);
    const revoked = await call(server, server.rootKey, 'keys.revoke', { id: key.id, reason: 'leaked' });
    expect(revoked.body.data).toMatchObject({ isActive: false, revokedReason: 'leaked' });
    const after = await call(server, secret, 'keys.whoami');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHORIZED');
  });

  it('rotates a key: the new secret works, the old one stops (or lasts out its grace period)', async () => {
    const { key, secret } = await newKey({ scopes: ['keys:read'] });
    const rotated = await call(server, server.rootKey, 'keys.rotate', { id: key.id });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.key.scopes).toEqual(['keys:read']);
    expect(rotated.body.data.key.rotatedFromKeyId).toBe(key.id);
    expect((await call(server, secret, 'keys.list')).status).toBe(401);
    expect((await call(server, rotated.body.data.secret, 'keys.list')).status).toBe(200);

    const graced = await newKey();
    const soft = await call(server, server.rootKey, 'keys.rotate', { id: graced.key.id, gracePeriodSeconds: 3600 });
    expect(soft.body.data.previousKey.expiresAt).not.toBeNull();
    expect((await call(server, graced.secret, 'keys.whoami')).status).toBe(200);
  });

  it('refuses an expired key', async () => {
    const { key, secret } = await newKey();
    await call(server, server.rootKey, 'keys.update', {
      id: key.id,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const res = await call(server, secret, 'keys.whoami');
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
  });

  it('answers 403 from an address outside the allowlist, and 200 from inside it (IPv4, IPv6, mapped)', async () => {
    const { secret } = await newKey({ allowedIps: ['10.1.0.0/16', '2001:db8::/32', '192.0.2.7'] });
    expect((await call(server, secret, 'keys.whoami', {}, { remoteAddress: '10.1.2.3' })).status).toBe(200);
    expect((await call(server, secret, 'keys.whoami', {}, { remoteAddress: '::ffff:10.1.200.1' })).status).toBe(200);
    expect((await call(server, secret, 'keys.whoami', {}, { remoteAddress: '2001:db8::5' })).status).toBe(200);
    expect((await call(server, secret, 'keys.whoami', {}, { remoteAddress: '192.0.2.7' })).status).toBe(200);
    const outside = await call(server, secret, 'keys.whoami', {}, { remoteAddress: '10.2.0.1' });
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('FORBIDDEN');
    expect((await call(server, secret, 'keys.whoami', {}, { remoteAddress: '127.0.0.1' })).status).toBe(403);
  });

  it('answers 429 RATE_LIMITED with Retry-After and rate-limit headers after the per-minute limit', async () => {
    const { secret } = await newKey({ rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      const ok = await call(server, secret, 'keys.whoami');
      expect(ok.status).toBe(200);
      expect(ok.headers.ratelimit).toMatch(new RegExp(`^limit=3, remaining=${2 - i}, reset=([1-9]|[1-5][0-9]|60)$`));
    }
    const limited = await call(server, secret, 'keys.whoami');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.ratelimit).toMatch(/^limit=3, remaining=0, reset=\d+$/);
  });

  it("counts sync actions against their own limit, apart from the key's per-minute limit", async () => {
    const { secret } = await newKey({ rateLimitPerMinute: 2 });
    await call(server, secret, 'keys.whoami');
    await call(server, secret, 'keys.whoami');
    expect((await call(server, secret, 'keys.whoami')).status).toBe(429);
  });

  it('answers 400 VALIDATION_ERROR to an unknown action, malformed JSON, a bad envelope and bad data', async () => {
    const unknown = await call(server, server.rootKey, 'nope.nothing');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('VALIDATION_ERROR');

    const malformed = await server.app.inject({
      method: 'POST',
      url: '/api/ora',
      headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
      payload: '{"action": "keys.list",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('VALIDATION_ERROR');

    const badData = await call(server, server.rootKey, 'keys.create', { name: '', scopes: ['root'] });
    expect(badData.status).toBe(400);
    expect(badData.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['name', 'scopes.0']),
    );
    const badId = await call(server, server.rootKey, 'keys.get', { id: 'x' });
    expect(badId.status).toBe(400);
    const missing = await call(server, server.rootKey, 'keys.get', { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 413 to a body over the limit', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/ora',
      headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ action: 'keys.create', data: { name: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
  });

  it('never answers 500 to bad input', async () => {
    const garbage: unknown[] = [
      null,
      1,
      'x',
      [],
      [1, 2],
      { action: 1 },
      { action: null },
      { action: 'keys.list', data: 'x' },
      { action: 'keys.list', data: [] },
      { action: 'keys.list', data: { limit: -1 } },
      { action: 'keys.list', data: { cursor: 'zzz' } },
      { action: 'keys.list', data: { cursor: 'WyJ4IiwieSJd' } },
      { action: 'keys.create', data: { name: 'n', expiresAt: 'yesterday' } },
      { action: 'keys.create', data: { name: 'n', allowedIps: ['300.1.1.1/99'] } },
      { action: 'keys.create', data: { name: 'n', agentId: 'abc' } },
      { action: 'keys.update', data: { id: null } },
      { action: 'keys.rotate', data: { id: '00000000-0000-4000-8000-000000000000', gracePeriodSeconds: 1e12 } },
      { action: '__proto__' },
      { action: 'constructor' },
      { action: 'keys.list', data: { __proto__: { limit: 5 } } },
      { action: 'keys.revoke', data: { id: '00000000-0000-4000-8000-000000000000', reason: 'r'.repeat(10_000) } },
    ];
    for (const body of garbage) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/ora',
        headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect(res.statusCode, JSON.stringify(body)).toBeLessThan(500);
      if (res.statusCode >= 400)
        expect(res.json().error.code, JSON.stringify(body)).toMatch(/VALIDATION_ERROR|NOT_FOUND/);
    }
  });

  it('replays a mutation with the same Idempotency-Key and refuses the key with another body', async () => {
    const headers = { 'idempotency-key': `idem-${mode}-1` };
    const first = await call(server, server.rootKey, 'keys.create', { name: 'idem' }, { headers });
    const second = await call(server, server.rootKey, 'keys.create', { name: 'idem' }, { headers });
    expect(second.status).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.data.key.id).toBe(first.body.data.key.id);
    const other = await call(server, server.rootKey, 'keys.create', { name: 'other' }, { headers });
    expect(other.status).toBe(400);
    const list = await call(server, server.rootKey, 'keys.list', { limit: 200 });
    expect(list.body.data.items.filter((k: { name: string }) => k.name === 'idem')).toHaveLength(1);
  });

  it('pages keys.list with a cursor', async () => {
    for (let i = 0; i < 3; i++) await newKey({ name: `page-${i}` });
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res: any = await call(server, server.rootKey, 'keys.list', { limit: 2, ...(cursor ? { cursor } : {}) });
      for (const item of res.body.data.items) {
        expect(seen.has(item.id)).toBe(false);
        seen.add(item.id);
      }
      cursor = res.body.data.nextCursor;
    } while (cursor);
    const all = await call(server, server.rootKey, 'keys.list', { limit: 200 });
    expect(seen.size).toBe(all.body.data.items.length);
  });

  it('writes an audit row for every mutation: who, what, when, from where', async () => {
    const { key } = await newKey({ name: 'audited' });
    await call(server, server.rootKey, 'keys.revoke', { id: key.id }, { remoteAddress: '10.9.8.7' });
    const rows = await server.system.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', key.id)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.action)).toEqual(['keys.create', 'keys.revoke']);
    expect(rows[1]).toMatchObject({ ip: '10.9.8.7' });
    expect(rows[1]?.key_id).toBeTruthy();
    expect(rows[1]?.request_id).toMatch(/^req_/);
  });

  it('reads the audit log with audit.list: newest first, filtered, paged, behind the audit:read scope', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const { key } = await newKey({ name: 'audit subject' });
    await call(server, server.rootKey, 'keys.revoke', { id: key.id }, { remoteAddress: '10.9.8.6' });
    const own = await call(server, server.rootKey, 'audit.list', { targetId: key.id });
    expect(own.status).toBe(200);
    expect(own.body.data.items.map((e: { action: string }) => e.action)).toEqual(['keys.revoke', 'keys.create']);
    const [revoke] = own.body.data.items;
    expect(revoke).toMatchObject({ targetType: 'api_key', targetId: key.id, ip: '10.9.8.6' });
    expect(revoke.keyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(revoke.requestId).toMatch(/^req_/);
    expect(Date.parse(revoke.at)).toBeGreaterThanOrEqual(Date.parse(before));

    // Filters: a whole domain, the key that acted, a time window.
    const keysOnly = await call(server, server.rootKey, 'audit.list', { action: 'keys.*', since: before, limit: 200 });
    expect(keysOnly.body.data.items.length).toBeGreaterThanOrEqual(2);
    expect(keysOnly.body.data.items.every((e: { action: string }) => e.action.startsWith('keys.'))).toBe(true);
    const byActor = await call(server, server.rootKey, 'audit.list', { keyId: revoke.keyId, action: 'keys.revoke' });
    expect(byActor.body.data.items.map((e: { id: string }) => e.id)).toContain(revoke.id);
    const old = await call(server, server.rootKey, 'audit.list', { targetId: key.id, until: before });
    expect(old.body.data.items).toEqual([]);

    // Pages of one, each older than the last, until the end.
    const first = await call(server, server.rootKey, 'audit.list', { targetId: key.id, limit: 1 });
    expect(first.body.data.items[0].id).toBe(revoke.id);
    const second = await call(server, server.rootKey, 'audit.list', {
      targetId: key.id,
      limit: 1,
      cursor: first.body.data.nextCursor,
    });
    expect(second.body.data.items[0].action).toBe('keys.create');
    expect(BigInt(second.body.data.items[0].id)).toBeLessThan(BigInt(revoke.id));
    expect(second.body.data.nextCursor).toBeNull();

    // Refusals: no scope, a forged cursor, a malformed action filter.
    const reader = await newKey({ name: 'no audit', scopes: ['keys:read'] });
    expect((await call(server, reader.secret, 'audit.list', {})).status).toBe(403);
    const forged = await call(server, server.rootKey, 'audit.list', { cursor: 'bm90LWEtY3Vyc29y' });
    expect(forged.status).toBe(400);
    expect(forged.body.error.message).toMatch(/Invalid cursor/);
    expect((await call(server, server.rootKey, 'audit.list', { action: 'keys' })).status).toBe(400);
    const huge = Buffer.from(JSON.stringify(['99999999999999999999'.slice(1)])).toString('base64url');
    expect((await call(server, server.rootKey, 'audit.list', { cursor: huge })).status).toBe(400);
  });

  it('records usage (count, last used at and from) without a write per request', async () => {
    const { key, secret } = await newKey();
    for (let i = 0; i < 4; i++) await call(server, secret, 'keys.whoami', {}, { remoteAddress: '10.0.0.4' });
    const before = await call(server, server.rootKey, 'keys.get', { id: key.id });
    expect(before.body.data.totalRequests).toBe(0);
    await server.system.usage.flush();
    const after = await call(server, server.rootKey, 'keys.get', { id: key.id });
    expect(after.body.data).toMatchObject({ totalRequests: 4, lastUsedIp: '10.0.0.4' });
  });

  it('serves health, readiness with capabilities, and Prometheus metrics by action and status', async () => {
    expect((await server.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await server.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().capabilities).toEqual({
      vector: mode === 'embedded',
      database: mode === 'embedded' ? 'pglite' : 'postgres',
    });
    await call(server, server.rootKey, 'keys.whoami');
    await call(server, server.rootKey, 'keys.get', { id: 'not-a-uuid' });
    expect((await server.app.inject({ method: 'POST', url: '/api/ora/keys.whoami' })).statusCode).toBe(401);
    expect((await server.app.inject('/nothing-here')).statusCode).toBe(404);
    const metrics = await server.app.inject('/metrics');
    const series = (action: string, status: number) =>
      new RegExp(`ora_http_request_duration_seconds_count\\{action="${action}",status="${status}"\\} [1-9]`);
    expect(metrics.body).toMatch(
      /ora_http_request_duration_seconds_bucket\{le="[^"]+",action="keys.whoami",status="200"\}/,
    );
    // Refusals are timed too: by action once it is known, by route before (no key), and the 404.
    expect(metrics.body).toMatch(series('keys.get', 400));
    expect(metrics.body).toMatch(series('POST /api/ora/:action', 401));
    expect(metrics.body).toMatch(series('GET unmatched', 404));
    expect(metrics.body).toMatch(series('GET /readyz', 200));
  });

  it("sends helmet's headers on pages and a short JSON set on API answers", async () => {
    const page = await server.app.inject('/docs');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['strict-transport-security']).toBeTruthy();
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const api = await call(server, server.rootKey, 'keys.whoami');
    expect(api.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    expect(api.headers['x-request-id']).toBe(api.body.requestId);
    // Refusals and the 404 carry them too.
    const refused = await server.app.inject({ method: 'POST', url: '/api/ora/keys.whoami' });
    const missing = await server.app.inject('/api/nothing-here');
    for (const res of [refused, missing]) {
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
      expect(res.headers['x-request-id']).toBe(res.json().requestId);
    }
  });

  it('documents every route it serves in /openapi.json, with the methods it answers', async () => {
    const document = (await server.app.inject('/openapi.json')).json() as { paths: Record<string, object> };
    // printRoutes draws a tree: each level indents by 4 characters and names the rest of the path.
    const served: string[] = [];
    const stack: string[] = [];
    for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
      if (!match) continue;
      const depth = (match[1] as string).length / 4;
      stack.length = depth;
      stack.push(match[2] as string);
      for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) {
        served.push(`${method.toLowerCase()} ${stack.join('').replace(/:(\w+)/g, '{$1}')}`);
      }
    }
    expect(served.length).toBeGreaterThan(15);
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`)),
    );
    // POST /api/ora/{action} is documented once per action.
    const missing = served.filter((route) => route !== 'post /api/ora/{action}' && !documented.has(route));
    expect(missing).toEqual([]);
    // The docs page lists the routes that are not actions.
    const docs = (await server.app.inject('/docs')).body;
    for (const route of ['GET /posts/{slug}', 'POST /leads', 'GET /api/ora/events', 'POST /api/agent']) {
      expect(docs).toContain(route);
    }
  });

  it('answers an unknown route with NOT_FOUND in the error envelope', async () => {
    const res = await server.app.inject('/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 per an independent validator, with one operation per action', async () => {
    const document = buildOpenApiDocument();
    const validated = (await SwaggerParser.validate(structuredClone(document) as never)) as {
      openapi: string;
      paths: object;
    };
    expect(validated.openapi).toBe('3.1.0');
    const { actionNames } = await import('@ora/contracts');
    for (const name of actionNames) expect(Object.keys(document.paths)).toContain(`/api/ora/${name}`);
  });
});
