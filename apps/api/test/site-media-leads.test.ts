import { createHash } from 'node:crypto';
import { purgeExpiredSalts, utcDay } from '@ora/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0rest-of-jpeg')]);
const DESKTOP = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1';

describe.each(modes)('media, leads and analytics (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode, {
      env: { ORA_RATE_LIMIT_PER_MINUTE: '100000', ORA_MEDIA_MAX_BYTES: String(2 * 1024 * 1024) },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const upload = (data: Record<string, unknown>) => call(server, server.rootKey, 'media.upload', data);
  const eventsOf = (type: string, field: string, value: string) =>
    server.system.database.db
      .selectFrom('events')
      .selectAll()
      .where('type', '=', type)
      .where(sql`payload->>${field}`, '=', value)
      .execute();

  describe('media', () => {
    it('stores an image under the type sniffed from its bytes and serves it at /media/:id with caching headers', async () => {
      const res = await upload({
        filename: 'pixel.png',
        contentType: 'image/jpeg',
        data: PNG.toString('base64'),
        alt: 'A pixel',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const media = res.body.data;
      expect(media).toMatchObject({
        filename: 'pixel.png',
        contentType: 'image/png',
        sizeBytes: PNG.length,
        sha256: createHash('sha256').update(PNG).digest('hex'),
        alt: 'A pixel',
        url: `/media/${media.id}`,
        storage: 'local',
      });
      const served = await server.app.inject(`/media/${media.id}`);
      expect(served.statusCode).toBe(200);
      expect(served.headers['content-type']).toBe('image/png');
      expect(served.headers['x-content-type-options']).toBe('nosniff');
      expect(served.headers['cache-control']).toContain('immutable');
      expect(served.headers['content-security-policy']).toContain("default-src 'none'");
      expect(served.rawPayload.equals(PNG)).toBe(true);
      const revalidated = await server.app.inject({
        url: `/media/${media.id}`,
        headers: { 'if-none-match': served.headers.etag as string },
      });
      expect(revalidated.statusCode).toBe(304);
      expect((await call(server, server.rootKey, 'media.get', { id: media.id })).body.data).toEqual(media);
    });

    it('accepts a data: URL, and a JPEG whatever it is called', async () => {
      const res = await upload({ filename: 'photo.png', data: `data:image/png;base64,${JPEG.toString('base64')}` });
      expect(res.status).toBe(200);
      expect(res.body.data.contentType).toBe('image/jpeg');
    });

    it('refuses what is not an allowed image, whatever its name or declared type says', async () => {
      const cases = [
        {
          filename: 'page.png',
          contentType: 'image/png',
          data: Buffer.from('<html><script>alert(1)</script>').toString('base64'),
        },
        {
          filename: 'icon.svg',
          contentType: 'image/svg+xml',
          data: Buffer.from('<svg onload="alert(1)"/>').toString('base64'),
        },
        { filename: 'doc.pdf', data: Buffer.from('%PDF-1.7 ...').toString('base64') },
        { filename: 'x.png', data: 'not base64 at all!' },
        { filename: 'x.png', data: 'QUJD=' },
        { filename: '../../etc/passwd', data: PNG.toString('base64') },
        { filename: 'x.png', data: '' },
      ];
      for (const data of cases) {
        const res = await upload(data);
        expect(res.status, data.filename).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
      }
      const count = await server.system.database.db
        .selectFrom('media')
        .select(sql<string>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(2);
    });

    it('refuses a file over ORA_MEDIA_MAX_BYTES with 413, and takes a large one on its own path', async () => {
      const big = Buffer.concat([PNG, Buffer.alloc(1_500_000)]);
      // Over the 1 MiB body limit of POST /api/ora, within the media limit: the dedicated path takes it.
      const viaEnvelope = await upload({ filename: 'big.png', data: big.toString('base64') });
      expect(viaEnvelope.status).toBe(413);
      const viaPath = await server.app.inject({
        method: 'POST',
        url: '/api/ora/media.upload',
        headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ filename: 'big.png', data: big.toString('base64') }),
      });
      expect(viaPath.statusCode, viaPath.body.slice(0, 300)).toBe(200);
      expect(viaPath.json().data.sizeBytes).toBe(big.length);

      const tooBig = Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]);
      const refused = await server.app.inject({
        method: 'POST',
        url: '/api/ora/media.upload',
        headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ filename: 'huge.png', data: tooBig.toString('base64') }),
      });
      expect(refused.statusCode).toBe(413);
      expect(refused.json().error.code).toBe('VALIDATION_ERROR');
    });

    it('lists media newest first in pages, uses it as a post cover, and deletes it (file and all)', async () => {
      const listed = await call(server, server.rootKey, 'media.list', { limit: 2 });
      expect(listed.body.data.items).toHaveLength(2);
      const rest = await call(server, server.rootKey, 'media.list', { limit: 10, cursor: listed.body.data.nextCursor });
      expect(rest.body.data.items.length).toBeGreaterThanOrEqual(1);
      const media = rest.body.data.items.at(-1);

      const post = await call(server, server.rootKey, 'posts.create', {
        title: 'With cover',
        cover: { mediaId: media.id, alt: 'cover' },
      });
      expect(post.body.data.cover).toEqual({ mediaId: media.id, url: null, alt: 'cover' });
      await call(server, server.rootKey, 'posts.publish', { id: post.body.data.id });
      const page = await server.app.inject({ url: '/posts/with-cover', headers: { accept: 'text/html' } });
      expect(page.body).toContain(`/media/${media.id}" alt="cover"`);
      const missingCover = await call(server, server.rootKey, 'posts.create', {
        title: 'Bad cover',
        cover: { mediaId: '00000000-0000-4000-8000-000000000000' },
      });
      expect(missingCover.status).toBe(400);

      const deleted = await call(server, server.rootKey, 'media.delete', { id: media.id });
      expect(deleted.body.data).toEqual({ id: media.id, deleted: true });
      expect((await server.app.inject(`/media/${media.id}`)).statusCode).toBe(404);
      expect((await call(server, server.rootKey, 'media.get', { id: media.id })).status).toBe(404);
      expect(await server.system.site.media.get(media.id)).toBeNull();
      const after = await call(server, server.rootKey, 'posts.get', { id: post.body.data.id });
      expect(after.body.data.cover).toBeNull();
    });

    it('needs media:write to upload', async () => {
      const key = await call(server, server.rootKey, 'keys.create', { name: 'reader', scopes: ['media:read'] });
      const res = await call(server, key.body.data.secret, 'media.upload', {
        filename: 'a.png',
        data: PNG.toString('base64'),
      });
      expect(res.status).toBe(403);
      expect((await call(server, key.body.data.secret, 'media.list')).status).toBe(200);
    });
  });

  describe('leads', () => {
    it('creates, gets, lists by filter, updates and deletes leads, with lead.created and audit rows', async () => {
      const created = await call(server, server.rootKey, 'leads.create', {
        email: 'Ada@Example.com',
        name: 'Ada',
        source: 'newsletter',
        tags: ['vip'],
        notes: 'Met at a conference',
      });
      expect(created.status).toBe(200);
      const lead = created.body.data;
      expect(lead).toMatchObject({ status: 'new', createdVia: 'api', tags: ['vip'] });
      expect(await eventsOf('lead.created', 'leadId', lead.id)).toHaveLength(1);
      expect((await call(server, server.rootKey, 'leads.get', { id: lead.id })).body.data).toEqual(lead);
      await call(server, server.rootKey, 'leads.create', { email: 'bob@example.com', source: 'ads' });

      const byEmail = await call(server, server.rootKey, 'leads.list', { email: 'ada@example.com' });
      expect(byEmail.body.data.items.map((l: { id: string }) => l.id)).toEqual([lead.id]);
      expect((await call(server, server.rootKey, 'leads.list', { tag: 'vip' })).body.data.items).toHaveLength(1);
      expect((await call(server, server.rootKey, 'leads.list', { source: 'ads' })).body.data.items).toHaveLength(1);
      const page = await call(server, server.rootKey, 'leads.list', { limit: 1 });
      expect(page.body.data.nextCursor).not.toBeNull();

      const updated = await call(server, server.rootKey, 'leads.update', {
        id: lead.id,
        status: 'qualified',
        notes: null,
      });
      expect(updated.body.data).toMatchObject({ status: 'qualified', notes: null, name: 'Ada' });
      expect((await call(server, server.rootKey, 'leads.list', { status: 'qualified' })).body.data.items).toHaveLength(
        1,
      );
      expect((await call(server, server.rootKey, 'leads.update', { id: lead.id, status: 'bogus' })).status).toBe(400);

      expect((await call(server, server.rootKey, 'leads.delete', { id: lead.id })).body.data).toEqual({
        id: lead.id,
        deleted: true,
      });
      expect((await call(server, server.rootKey, 'leads.get', { id: lead.id })).status).toBe(404);
      const audit = await server.system.database.db
        .selectFrom('audit_log')
        .select('action')
        .where('target_id', '=', lead.id)
        .orderBy('id')
        .execute();
      expect(audit.map((a) => a.action)).toEqual(['leads.create', 'leads.update', 'leads.delete']);
      const reader = await call(server, server.rootKey, 'keys.create', { name: 'r', scopes: ['leads:read'] });
      expect((await call(server, reader.body.data.secret, 'leads.create', { email: 'x@example.com' })).status).toBe(
        403,
      );
    });

    it('takes the public form without a key, emits lead.created, and ignores a filled honeypot alike', async () => {
      const form = (payload: unknown, remoteAddress = '203.0.113.10') =>
        server.app.inject({
          method: 'POST',
          url: '/leads',
          payload: payload as string,
          remoteAddress,
          headers: { 'content-type': 'application/json' },
        });
      const res = await form(
        JSON.stringify({ email: 'visitor@example.com', name: 'Vis', message: 'Hello!', source: 'contact' }),
      );
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ data: { received: true } });
      const stored = await call(server, server.rootKey, 'leads.list', { email: 'visitor@example.com' });
      expect(stored.body.data.items[0]).toMatchObject({
        createdVia: 'form',
        message: 'Hello!',
        source: 'contact',
        status: 'new',
      });
      expect(await eventsOf('lead.created', 'email', 'visitor@example.com')).toHaveLength(1);

      const bot = await form(
        JSON.stringify({ email: 'bot@example.com', website: 'http://spam.example' }),
        '203.0.113.11',
      );
      expect(bot.statusCode).toBe(201);
      expect(bot.json().data).toEqual({ received: true });
      expect((await call(server, server.rootKey, 'leads.list', { email: 'bot@example.com' })).body.data.items).toEqual(
        [],
      );

      const bad = await form(JSON.stringify({ email: 'nope' }), '203.0.113.12');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details.issues[0].path).toBe('email');
    });

    it('limits the public form per address with 429 and Retry-After, apart from other addresses', async () => {
      const send = (remoteAddress: string) =>
        server.app.inject({
          method: 'POST',
          url: '/leads',
          remoteAddress,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ email: 'many@example.com' }),
        });
      for (let i = 0; i < 5; i++) expect((await send('203.0.113.50')).statusCode).toBe(201);
      const limited = await send('203.0.113.50');
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await send('203.0.113.51')).statusCode).toBe(201);
    });
  });

  describe('analytics', () => {
    const collect = (body: unknown, userAgent = DESKTOP, remoteAddress = '192.0.2.1') =>
      server.app.inject({
        method: 'POST',
        url: '/collect',
        remoteAddress,
        headers: { 'content-type': 'text/plain', 'user-agent': userAgent, host: 'anwe.example' },
        payload: JSON.stringify(body),
      });

    it('records page views without personal data and sums them per day, post, path, referrer and device', async () => {
      const post = await call(server, server.rootKey, 'posts.create', { title: 'Counted post' });
      await call(server, server.rootKey, 'posts.publish', { id: post.body.data.id });
      const views = [
        collect({ path: '/posts/counted-post?utm=secret#top', referrer: 'https://news.example.org/item?id=1' }),
        collect({ path: '/posts/counted-post', referrer: 'https://www.news.example.org/' }),
        collect({ path: '/posts/counted-post', referrer: 'https://anwe.example/posts' }, PHONE, '192.0.2.2'),
        collect({ path: '/about' }, PHONE, '192.0.2.2'),
        collect({ path: '/', referrer: 'javascript:alert(1)' }, DESKTOP, '192.0.2.3'),
      ];
      for (const view of views) {
        const res = await view;
        expect(res.statusCode).toBe(202);
        expect(res.json().data).toEqual({ recorded: true });
      }
      const bot = await collect({ path: '/posts/counted-post' }, 'Mozilla/5.0 (compatible; Googlebot/2.1)');
      expect(bot.json().data).toEqual({ recorded: false });

      const rows = await server.system.database.db.selectFrom('page_views').selectAll().execute();
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain('192.0.2.');
      expect(stored).not.toContain('Mozilla');
      expect(stored).not.toContain('utm=secret');
      expect(stored).not.toContain('item?id=1');

      const summary = await call(server, server.rootKey, 'analytics.summary', {});
      expect(summary.status).toBe(200);
      const data = summary.body.data;
      const today = utcDay(new Date());
      expect(data.to).toBe(today);
      expect(data.days).toHaveLength(30);
      expect(data.days.at(-1)).toEqual({ date: today, views: 5, visitors: 3 });
      expect(data).toMatchObject({ views: 5, visitors: 3 });
      expect(data.topPosts).toEqual([
        { postId: post.body.data.id, slug: 'counted-post', title: 'Counted post', views: 3, visitors: 2 },
      ]);
      expect(data.topPaths[0]).toEqual({ path: '/posts/counted-post', views: 3 });
      expect(data.referrers).toEqual([{ referrer: 'news.example.org', views: 2 }]);
      expect(data.devices).toEqual(
        expect.arrayContaining([
          { device: 'desktop', views: 3 },
          { device: 'mobile', views: 2 },
        ]),
      );

      const one = await call(server, server.rootKey, 'analytics.post', {
        id: post.body.data.id,
        from: today,
        to: today,
      });
      expect(one.body.data).toMatchObject({
        slug: 'counted-post',
        views: 3,
        visitors: 2,
        days: [{ date: today, views: 3, visitors: 2 }],
        referrers: [{ referrer: 'news.example.org', views: 2 }],
      });
      expect(
        (await call(server, server.rootKey, 'analytics.post', { id: '00000000-0000-4000-8000-000000000000' })).status,
      ).toBe(404);
    });

    it('keeps a salt for the current day only: a past day’s salt is deleted, so its hashes cannot be recomputed', async () => {
      const db = server.system.database.db;
      await db.insertInto('analytics_salts').values({ day: '2020-01-01', salt: 'old' }).execute();
      expect(await purgeExpiredSalts({ db, clock: { now: () => new Date() } })).toBe(1);
      const salts = await db.selectFrom('analytics_salts').select(sql<string>`day::text`.as('day')).execute();
      expect(salts.map((s) => s.day)).toEqual([utcDay(new Date())]);
      // Tomorrow, today's salt is gone too.
      expect(await purgeExpiredSalts({ db, clock: { now: () => new Date(Date.now() + 86_400_000) } })).toBe(1);
    });

    it('validates ranges and needs analytics:read', async () => {
      expect(
        (await call(server, server.rootKey, 'analytics.summary', { from: '2026-02-01', to: '2026-01-01' })).status,
      ).toBe(400);
      expect(
        (await call(server, server.rootKey, 'analytics.summary', { from: '2020-01-01', to: '2026-01-01' })).status,
      ).toBe(400);
      expect((await call(server, server.rootKey, 'analytics.summary', { from: 'yesterday' })).status).toBe(400);
      const key = await call(server, server.rootKey, 'keys.create', { name: 'posts only', scopes: ['posts:read'] });
      expect((await call(server, key.body.data.secret, 'analytics.summary', {})).status).toBe(403);
    });
  });
});
