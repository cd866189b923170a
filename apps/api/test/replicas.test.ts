import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const distributed = (await availableModes()).includes('distributed');

describe.runIf(distributed)('two API replicas on one Postgres and Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer('distributed');
    b = await startTestServer('distributed', { sameBackendAs: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('stops accepting a key on every replica as soon as one revokes it', async () => {
    const created = await call(a, a.rootKey, 'keys.create', { name: 'shared' });
    const secret = created.body.data.secret;
    expect((await call(b, secret, 'keys.whoami')).status).toBe(200); // now cached on b
    await call(a, a.rootKey, 'keys.revoke', { id: created.body.data.key.id });
    await expect.poll(async () => (await call(b, secret, 'keys.whoami')).status, { timeout: 2000 }).toBe(401);
  });

  it('shares rate limits through Redis', async () => {
    const created = await call(a, a.rootKey, 'keys.create', { name: 'limited', rateLimitPerMinute: 4 });
    const secret = created.body.data.secret;
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(i % 2 ? b : a, secret, 'keys.whoami')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('adds usage from both replicas together', async () => {
    const created = await call(a, a.rootKey, 'keys.create', { name: 'usage' });
    const secret = created.body.data.secret;
    for (let i = 0; i < 3; i++) await call(a, secret, 'keys.whoami');
    for (let i = 0; i < 2; i++) await call(b, secret, 'keys.whoami');
    await Promise.all([a.system.usage.flush(), b.system.usage.flush()]);
    const key = await call(a, a.rootKey, 'keys.get', { id: created.body.data.key.id });
    expect(key.body.data.totalRequests).toBe(5);
  });
});
