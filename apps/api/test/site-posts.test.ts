import { publishDuePosts } from '@ora/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();
const HOUR = 3600_000;

describe.each(modes)('posts and settings (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    // Many calls with one key: more than the default 60 per minute.
    server = await startTestServer(mode, { env: { ORA_RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function createPost(data: Record<string, unknown>) {
    const res = await call(server, server.rootKey, 'posts.create', data);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data;
  }
  async function newKey(scopes: string[]) {
    const res = await call(server, server.rootKey, 'keys.create', { name: 'scoped', scopes });
    return res.body.data.secret as string;
  }
  const eventsOf = (type: string, postId: string) =>
    server.system.database.db
      .selectFrom('events')
      .selectAll()
      .where('type', '=', type)
      .where(sql`payload->>'postId'`, '=', postId)
      .execute();

  it('creates a draft with every field, a slug generated from the title, and an audit row', async () => {
    const post = await createPost({
      title: 'Héllo, Wörld! AI safety 101',
      body: '# Intro\n\nSome *markdown*.',
      excerpt: 'Short',
      tags: ['ai', 'safety'],
      seo: {
        metaTitle: 'AI safety',
        metaDescription: 'About AI safety',
        canonicalUrl: 'https://example.com/ai',
        keywords: ['ai'],
      },
      cover: { url: 'https://example.com/cover.png', alt: 'A cover' },
      author: { type: 'agent', name: 'Writer' },
    });
    expect(post).toMatchObject({
      slug: 'hello-world-ai-safety-101',
      status: 'draft',
      revision: 1,
      publishedAt: null,
      tags: ['ai', 'safety'],
      seo: { canonicalUrl: 'https://example.com/ai', keywords: ['ai'] },
      cover: { mediaId: null, url: 'https://example.com/cover.png', alt: 'A cover' },
      author: { type: 'agent', name: 'Writer' },
    });
    const audit = await server.system.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', post.id)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['posts.create']);
  });

  it('keeps slugs unique: a generated one gets a suffix, a chosen one that is taken is a CONFLICT', async () => {
    const a = await createPost({ title: 'Same title' });
    const b = await createPost({ title: 'Same title' });
    const c = await createPost({ title: 'Same  title!' });
    expect([a.slug, b.slug, c.slug]).toEqual(['same-title', 'same-title-2', 'same-title-3']);
    const taken = await call(server, server.rootKey, 'posts.create', { title: 'Other', slug: 'same-title' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CONFLICT');
    const bad = await call(server, server.rootKey, 'posts.create', { title: 'Other', slug: 'Not A Slug' });
    expect(bad.status).toBe(400);
    const renamed = await call(server, server.rootKey, 'posts.update', { id: c.id, slug: 'same-title-2' });
    expect(renamed.status).toBe(409);
  });

  it('creates distinct slugs when many posts with one title are created at once', async () => {
    const created = await Promise.all(
      Array.from({ length: 6 }, () => call(server, server.rootKey, 'posts.create', { title: 'Race title' })),
    );
    expect(created.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set(created.map((r) => r.body.data.slug)).size).toBe(6);
  });

  it('gets a post by id and by slug, and answers NOT_FOUND for neither', async () => {
    const post = await createPost({ title: 'Findable' });
    expect((await call(server, server.rootKey, 'posts.get', { id: post.id })).body.data.slug).toBe('findable');
    expect((await call(server, server.rootKey, 'posts.get', { slug: 'findable' })).body.data.id).toBe(post.id);
    const missing = await call(server, server.rootKey, 'posts.get', { slug: 'nothing-here' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('lists posts newest first by status and tag, a page at a time', async () => {
    for (let i = 0; i < 3; i++) await createPost({ title: `Listed ${i}`, tags: ['listed'] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await call(server, server.rootKey, 'posts.list', {
        tag: 'listed',
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      expect(res.status).toBe(200);
      seen.push(...res.body.data.items.map((p: { title: string }) => p.title));
      cursor = res.body.data.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Listed 2', 'Listed 1', 'Listed 0']);
    const drafts = await call(server, server.rootKey, 'posts.list', { status: 'published', tag: 'listed' });
    expect(drafts.body.data.items).toEqual([]);
  });

  it('keeps every previous state as a revision and restores one (the replaced state is kept too)', async () => {
    const post = await createPost({ title: 'Version one', body: 'first body', tags: ['v1'] });
    const second = await call(server, server.rootKey, 'posts.update', {
      id: post.id,
      title: 'Version two',
      body: 'second body',
    });
    expect(second.body.data).toMatchObject({ revision: 2, title: 'Version two', slug: 'version-one' });
    const third = await call(server, server.rootKey, 'posts.update', {
      id: post.id,
      body: 'third body',
      tags: ['v3'],
      expectedRevision: 2,
    });
    expect(third.body.data).toMatchObject({ revision: 3, body: 'third body', tags: ['v3'] });

    const unchanged = await call(server, server.rootKey, 'posts.update', { id: post.id, body: 'third body' });
    expect(unchanged.body.data.revision).toBe(3);
    const stale = await call(server, server.rootKey, 'posts.update', { id: post.id, body: 'x', expectedRevision: 1 });
    expect(stale.status).toBe(409);

    const revisions = await call(server, server.rootKey, 'posts.revisions', { id: post.id });
    expect(revisions.status).toBe(200);
    expect(revisions.body.data.items.map((r: any) => [r.revision, r.title, r.body, r.change])).toEqual([
      [2, 'Version two', 'second body', 'update'],
      [1, 'Version one', 'first body', 'update'],
    ]);

    const restored = await call(server, server.rootKey, 'posts.restore', { id: post.id, revision: 1 });
    expect(restored.status).toBe(200);
    expect(restored.body.data).toMatchObject({
      revision: 4,
      title: 'Version one',
      body: 'first body',
      tags: ['v1'],
      slug: 'version-one',
    });
    const after = await call(server, server.rootKey, 'posts.revisions', { id: post.id, limit: 1 });
    expect(after.body.data.items[0]).toMatchObject({ revision: 3, body: 'third body', change: 'restore' });
    expect(after.body.data.nextCursor).not.toBeNull();
    const page2 = await call(server, server.rootKey, 'posts.revisions', {
      id: post.id,
      limit: 5,
      cursor: after.body.data.nextCursor,
    });
    expect(page2.body.data.items.map((r: any) => r.revision)).toEqual([2, 1]);

    expect((await call(server, server.rootKey, 'posts.restore', { id: post.id, revision: 4 })).status).toBe(404);
    expect((await call(server, server.rootKey, 'posts.restore', { id: post.id, revision: 99 })).status).toBe(404);
    const audit = await server.system.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', post.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['posts.create', 'posts.update', 'posts.update', 'posts.restore']);
  });

  it('publishes with a post.published event in the same transaction, once', async () => {
    await call(server, server.rootKey, 'settings.set', { siteUrl: 'https://blog.example.com' });
    const post = await createPost({ title: 'Going out' });
    const published = await call(server, server.rootKey, 'posts.publish', { id: post.id });
    expect(published.body.data.status).toBe('published');
    expect(published.body.data.publishedAt).not.toBeNull();
    const again = await call(server, server.rootKey, 'posts.publish', { id: post.id });
    expect(again.body.data.publishedAt).toBe(published.body.data.publishedAt);
    const events = await eventsOf('post.published', post.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.payload).toEqual({
      postId: post.id,
      slug: 'going-out',
      title: 'Going out',
      url: 'https://blog.example.com/posts/going-out',
      publishedAt: published.body.data.publishedAt,
    });
    await call(server, server.rootKey, 'settings.set', { siteUrl: null });
  });

  it('unpublishes to draft or archives, and deletes a post with its revisions', async () => {
    const post = await createPost({ title: 'Short lived' });
    await call(server, server.rootKey, 'posts.publish', { id: post.id });
    const draft = await call(server, server.rootKey, 'posts.unpublish', { id: post.id });
    expect(draft.body.data.status).toBe('draft');
    const archived = await call(server, server.rootKey, 'posts.unpublish', { id: post.id, archive: true });
    expect(archived.body.data.status).toBe('archived');
    await call(server, server.rootKey, 'posts.update', { id: post.id, body: 'changed' });
    const deleted = await call(server, server.rootKey, 'posts.delete', { id: post.id });
    expect(deleted.body.data).toEqual({ id: post.id, deleted: true });
    expect((await call(server, server.rootKey, 'posts.get', { id: post.id })).status).toBe(404);
    expect((await call(server, server.rootKey, 'posts.delete', { id: post.id })).status).toBe(404);
    const revisions = await server.system.database.db
      .selectFrom('post_revisions')
      .select('id')
      .where('post_id', '=', post.id)
      .execute();
    expect(revisions).toEqual([]);
  });

  it('publishes a scheduled post when its time comes, not before, exactly once across concurrent runs', async () => {
    const post = await createPost({ title: 'Scheduled one' });
    const publishAt = new Date(Date.now() + HOUR).toISOString();
    const scheduled = await call(server, server.rootKey, 'posts.schedule', { id: post.id, publishAt });
    expect(scheduled.body.data).toMatchObject({ status: 'scheduled', scheduledFor: publishAt });

    const db = server.system.database.db;
    expect(await publishDuePosts({ db, clock: { now: () => new Date() } })).toEqual([]);
    expect((await call(server, server.rootKey, 'posts.get', { id: post.id })).body.data.status).toBe('scheduled');

    const later = { now: () => new Date(Date.now() + 2 * HOUR) };
    const runs = await Promise.all([publishDuePosts({ db, clock: later }), publishDuePosts({ db, clock: later })]);
    expect(runs.flat().map((p) => p.id)).toEqual([post.id]);
    const now = await call(server, server.rootKey, 'posts.get', { id: post.id });
    expect(now.body.data).toMatchObject({ status: 'published', publishedAt: publishAt, scheduledFor: null });
    expect(await eventsOf('post.published', post.id)).toHaveLength(1);
    expect(await publishDuePosts({ db, clock: later })).toEqual([]);
  });

  it('refuses a schedule in the past and the scheduling of a published post', async () => {
    const post = await createPost({ title: 'Past schedule' });
    const past = await call(server, server.rootKey, 'posts.schedule', {
      id: post.id,
      publishAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.status).toBe(400);
    await call(server, server.rootKey, 'posts.publish', { id: post.id });
    const published = await call(server, server.rootKey, 'posts.schedule', {
      id: post.id,
      publishAt: new Date(Date.now() + HOUR).toISOString(),
    });
    expect(published.status).toBe(409);
  });

  it('needs posts:read to read and posts:write to change', async () => {
    const reader = await newKey(['posts:read']);
    expect((await call(server, reader, 'posts.list')).status).toBe(200);
    const refused = await call(server, reader, 'posts.create', { title: 'Nope' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.required).toBe('posts:write');
    const writer = await newKey(['posts:write']);
    expect((await call(server, writer, 'posts.create', { title: 'Yes' })).status).toBe(200);
    expect((await call(server, writer, 'posts.list')).status).toBe(403);
  });

  it('signs posts made by an agent-bound key as that agent by default', async () => {
    const agentId = '00000000-0000-4000-8000-0000000000a1';
    const res = await call(server, server.rootKey, 'keys.create', { name: 'writer', agentId, scopes: ['posts:*'] });
    const created = await call(server, res.body.data.secret, 'posts.create', { title: 'By the writer' });
    expect(created.body.data.author).toEqual({ type: 'agent', agentId, name: null });
    const forged = await call(server, res.body.data.secret, 'posts.create', {
      title: 'Forged',
      author: { type: 'agent', agentId: '00000000-0000-4000-8000-0000000000b2' },
    });
    expect(forged.status).toBe(403);
  });

  it('gets defaults, sets some settings, keeps the rest, and validates every value', async () => {
    const initial = await call(server, server.rootKey, 'settings.get');
    expect(initial.body.data.settings).toMatchObject({ siteName: 'My site', language: 'en', postingCadence: null });
    const set = await call(server, server.rootKey, 'settings.set', {
      siteName: 'Anwe',
      brandVoice: 'Plain, warm, precise.',
      postingCadence: { postsPerWeek: 2, days: ['tue', 'fri'], time: '09:30', timezone: 'Europe/Berlin' },
    });
    expect(set.status).toBe(200);
    expect(set.body.data.settings).toMatchObject({
      siteName: 'Anwe',
      language: 'en',
      brandVoice: 'Plain, warm, precise.',
      postingCadence: { postsPerWeek: 2, days: ['tue', 'fri'], time: '09:30', timezone: 'Europe/Berlin' },
    });
    expect(set.body.data.updatedAt).not.toBeNull();
    const next = await call(server, server.rootKey, 'settings.set', { defaultAuthor: 'Anwe' });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.data.settings.siteName).toBe('Anwe');
    expect((await call(server, server.rootKey, 'settings.get')).body.data.settings.defaultAuthor).toBe('Anwe');
    const post = await createPost({ title: 'Signed by default' });
    expect(post.author).toEqual({ type: 'operator', agentId: null, name: 'Anwe' });

    for (const bad of [
      { siteUrl: 'javascript:alert(1)' },
      { siteName: '' },
      { language: 'english please' },
      { postingCadence: { postsPerWeek: 2, timezone: 'Mars/Olympus' } },
      { postingCadence: { postsPerWeek: 2, time: '25:00' } },
      { unknownSetting: true },
    ]) {
      const res = await call(server, server.rootKey, 'settings.set', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const reader = await newKey(['settings:read']);
    expect((await call(server, reader, 'settings.get')).status).toBe(200);
    expect((await call(server, reader, 'settings.set', { siteName: 'x' })).status).toBe(403);
  });
});

describe.each(modes)('the scheduled-publishing timer (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode, { env: { ORA_SITE_PUBLISH_INTERVAL_MS: '200' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('publishes a post scheduled a second ahead within moments of its time, with no call', async () => {
    const created = await call(server, server.rootKey, 'posts.create', { title: 'On time' });
    const publishAt = new Date(Date.now() + 1000);
    await call(server, server.rootKey, 'posts.schedule', {
      id: created.body.data.id,
      publishAt: publishAt.toISOString(),
    });
    expect((await server.app.inject('/posts/on-time')).statusCode).toBe(404);
    const deadline = Date.now() + 10_000;
    let status = 404;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await server.app.inject('/posts/on-time')).statusCode;
    }
    expect(status).toBe(200);
    expect(Date.now() - publishAt.getTime()).toBeLessThan(5_000);
  });
});
