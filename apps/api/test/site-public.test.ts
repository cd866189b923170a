import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

/** RFC 822 dates as RSS 2.0 requires them (with a four-digit year, as RFC 1123 allows). */
const RFC822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/;

const EVIL_MARKDOWN = `# Safe heading

Hello <script>alert('xss')</script> world.

<script src="https://evil.example/x.js"></script>

[click me](javascript:alert(1)) and [also](JaVaScRiPt:alert(2)) and [entity](jav&#x09;ascript:alert(3))

<a href="javascript:alert(4)">raw link</a> <img src="x" onerror="alert(5)"> <img src="data:image/svg+xml;base64,PHN2Zz4=">

<iframe src="https://evil.example"></iframe><div onclick="alert(6)" style="background:url(javascript:alert(7))">div</div>

<svg><script>alert(8)</script></svg><object data="x"></object><form action="https://evil.example"><input></form>

[fine link](https://example.com/page) ![an image](https://example.com/a.png)

\`\`\`js
const ok = "<script>in code</script>";
\`\`\`
`;

describe.each(modes)('the public site (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode, { env: { ORA_RATE_LIMIT_PER_MINUTE: '100000' } });
    await call(server, server.rootKey, 'settings.set', {
      siteName: 'Anwe & Co <blog>',
      siteUrl: 'https://anwe.example',
      description: 'Notes on AI',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function publish(data: Record<string, unknown>) {
    const created = await call(server, server.rootKey, 'posts.create', data);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const published = await call(server, server.rootKey, 'posts.publish', { id: created.body.data.id });
    return published.body.data;
  }
  const get = (url: string, headers: Record<string, string> = {}) => server.app.inject({ method: 'GET', url, headers });

  it('renders a post as sanitised HTML: no script, no event handler, no javascript: or data: URL', async () => {
    await publish({ title: 'Evil markdown', body: EVIL_MARKDOWN, tags: ['<b>tag</b>'] });
    const res = await get('/posts/evil-markdown', { accept: 'text/html' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    const html = res.body;
    expect(html).toContain('<h1>Safe heading</h1>');
    expect(html).toContain('<a href="https://example.com/page" rel="noopener noreferrer">fine link</a>');
    expect(html).toContain('<img src="https://example.com/a.png" alt="an image"');
    expect(html).toContain('&lt;script&gt;in code&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;tag&lt;/b&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toMatch(/\son\w+=/i);
    expect(html).not.toMatch(/<(iframe|object|form|svg|input)/i);
    expect(html).not.toMatch(/src="data:/i);
    expect(html).not.toMatch(/style=/i);
    expect(html).toContain('<title>Evil markdown · Anwe &amp; Co &lt;blog&gt;</title>');
  });

  it('serves a post as JSON to a client asking for JSON, in the success envelope', async () => {
    await publish({ title: 'Json post', body: 'Hi <script>x()</script>', excerpt: 'An excerpt' });
    const res = await get('/posts/json-post', { accept: 'application/json' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(body.data).toMatchObject({
      slug: 'json-post',
      title: 'Json post',
      excerpt: 'An excerpt',
      url: 'https://anwe.example/posts/json-post',
    });
    expect(body.data.html.trim()).toBe('<p>Hi </p>');
  });

  it('answers 304 to a matching If-None-Match, with ETag and Cache-Control, and a new ETag after a change', async () => {
    const post = await publish({ title: 'Cached post', body: 'version 1' });
    const first = await get('/posts/cached-post');
    expect(first.statusCode).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    const again = await get('/posts/cached-post', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect((await get('/posts/cached-post', { 'if-none-match': `"other", W/${etag}` })).statusCode).toBe(304);
    expect((await get('/posts/cached-post', { 'if-none-match': '"stale"' })).statusCode).toBe(200);

    await call(server, server.rootKey, 'posts.update', { id: post.id, body: 'version 2' });
    const changed = await get('/posts/cached-post', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.body).toContain('version 2');
    expect(changed.headers.etag).not.toBe(etag);

    const json = await get('/posts/cached-post', { accept: 'application/json' });
    expect(json.headers.etag).toMatch(/^W\//);
    expect(
      (await get('/posts/cached-post', { accept: 'application/json', 'if-none-match': json.headers.etag as string }))
        .statusCode,
    ).toBe(304);
  });

  it('shows only published posts: drafts, scheduled and unpublished ones are NOT_FOUND', async () => {
    await call(server, server.rootKey, 'posts.create', { title: 'Still a draft' });
    const draft = await get('/posts/still-a-draft');
    expect(draft.statusCode).toBe(404);
    expect(draft.json().error.code).toBe('NOT_FOUND');
    const post = await publish({ title: 'Taken down' });
    expect((await get('/posts/taken-down')).statusCode).toBe(200);
    await call(server, server.rootKey, 'posts.unpublish', { id: post.id });
    expect((await get('/posts/taken-down')).statusCode).toBe(404);
  });

  it('lists published posts newest first as JSON pages and as an HTML index', async () => {
    for (const title of ['Page A', 'Page B', 'Page C']) await publish({ title, tags: ['paged'] });
    const first = await get('/posts?limit=2');
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.data.items.map((p: { slug: string }) => p.slug)).toEqual(['page-c', 'page-b']);
    expect(body.data.items[0]).toMatchObject({ url: 'https://anwe.example/posts/page-c', tags: ['paged'] });
    const next = await get(`/posts?limit=2&cursor=${encodeURIComponent(body.data.nextCursor)}`);
    expect(next.json().data.items[0].slug).toBe('page-a');
    const html = await get('/posts', { accept: 'text/html' });
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('<a href="/posts/page-c">Page C</a>');
    expect(html.body).not.toContain('still-a-draft');
    expect((await get('/posts', { 'if-none-match': first.headers.etag as string })).statusCode).toBe(200);
  });

  it('serves RSS 2.0 that a real XML parser reads, with every element the spec requires', async () => {
    await publish({
      title: 'Feed & <friends>',
      body: 'Body with ]]> inside and <script>alert(1)</script>',
      excerpt: 'Feed excerpt',
      tags: ['ai', 'rss'],
      author: { type: 'operator', name: 'Anwe' },
    });
    const res = await get('/feed.xml');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect(res.headers.etag).toBeTruthy();
    expect(XMLValidator.validate(res.body)).toBe(true);

    const parsed = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      isArray: (name) => name === 'item' || name === 'category',
    }).parse(res.body);
    const rss = parsed.rss;
    expect(rss['@version']).toBe('2.0');
    const channel = rss.channel;
    // RSS 2.0 required channel elements: title, link, description.
    expect(channel.title).toBe('Anwe & Co <blog>');
    expect(channel.link).toBe('https://anwe.example/posts');
    expect(channel.description).toBe('Notes on AI');
    expect(channel.lastBuildDate).toMatch(RFC822);
    expect(channel['atom:link']['@rel']).toBe('self');
    expect(channel.item.length).toBeGreaterThan(0);
    for (const item of channel.item) {
      // An item needs a title or a description; ours carry both, with a link, guid and date.
      expect(typeof item.title).toBe('string');
      expect(typeof item.description).toBe('string');
      expect(new URL(item.link).origin).toBe('https://anwe.example');
      expect(item.guid['#text']).toBe(item.link);
      expect(item.guid['@isPermaLink']).toBe('true');
      expect(item.pubDate).toMatch(RFC822);
      expect(Number.isNaN(Date.parse(item.pubDate))).toBe(false);
    }
    const friends = channel.item.find((i: { title: string }) => i.title === 'Feed & <friends>');
    expect(friends.description).toBe('Feed excerpt');
    expect(friends['dc:creator']).toBe('Anwe');
    expect(friends.category).toEqual(['ai', 'rss']);
    expect(friends['content:encoded']).toContain('Body with ]]&gt; inside');
    expect(friends['content:encoded']).not.toContain('<script');
    expect(channel.item.some((i: { link: string }) => i.link.endsWith('/still-a-draft'))).toBe(false);
    expect((await get('/feed.xml', { 'if-none-match': res.headers.etag as string })).statusCode).toBe(304);
  });

  it('serves a sitemap of the published posts', async () => {
    const res = await get('/sitemap.xml');
    expect(res.statusCode).toBe(200);
    expect(XMLValidator.validate(res.body)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'url' }).parse(res.body);
    const locs = parsed.urlset.url.map((u: { loc: string }) => u.loc);
    expect(parsed.urlset['@_xmlns']).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    expect(locs).toContain('https://anwe.example/posts');
    expect(locs).toContain('https://anwe.example/posts/page-a');
    expect(locs).not.toContain('https://anwe.example/posts/still-a-draft');
    for (const url of parsed.urlset.url) if (url.lastmod) expect(Number.isNaN(Date.parse(url.lastmod))).toBe(false);
  });

  it('uses the address the visitor came to when no site URL is set', async () => {
    await call(server, server.rootKey, 'settings.set', { siteUrl: null });
    const res = await get('/feed.xml', { host: 'blog.local:8787' });
    expect(res.body).toContain('<link>http://blog.local:8787/posts</link>');
    await call(server, server.rootKey, 'settings.set', { siteUrl: 'https://anwe.example' });
  });

  it('never answers 500 to bad input on a public endpoint, and answers in the error envelope', async () => {
    const requests = [
      { method: 'GET', url: '/posts/NOT%20A%20SLUG' },
      { method: 'GET', url: `/posts/${'a'.repeat(5000)}` },
      { method: 'GET', url: '/posts/%E0%A4%A' },
      { method: 'GET', url: '/posts?limit=-1' },
      { method: 'GET', url: '/posts?limit=abc' },
      { method: 'GET', url: '/posts?cursor=zzz' },
      { method: 'GET', url: '/posts?cursor=WyJ4IiwieSJd' },
      { method: 'GET', url: '/posts?cursor=a&cursor=b' },
      { method: 'GET', url: '/media/not-an-id' },
      { method: 'GET', url: '/media/00000000-0000-4000-8000-000000000000' },
      { method: 'POST', url: '/leads', payload: '{oops' },
      { method: 'POST', url: '/leads', payload: '[]' },
      { method: 'POST', url: '/leads', payload: '"x"' },
      { method: 'POST', url: '/leads', payload: JSON.stringify({ email: 'not-an-email' }) },
      { method: 'POST', url: '/leads', payload: JSON.stringify({ email: 'a@b.co', name: 'x'.repeat(100_000) }) },
      { method: 'POST', url: '/collect', payload: '' },
      { method: 'POST', url: '/collect', payload: 'null' },
      { method: 'POST', url: '/collect', payload: JSON.stringify({ path: 'no-slash' }) },
      { method: 'POST', url: '/collect', payload: JSON.stringify({ path: '/x', referrer: 5 }) },
      { method: 'POST', url: '/collect', payload: '{"path": 5}' },
    ] as const;
    for (const request of requests) {
      const res = await server.app.inject({
        ...request,
        headers: { 'content-type': 'application/json' },
        remoteAddress: '198.51.100.200',
      } as never);
      const label = `${request.method} ${request.url} ${'payload' in request ? request.payload.slice(0, 60) : ''}`;
      expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, label).toBeLessThan(500);
      expect(res.json().error.code, label).toMatch(/VALIDATION_ERROR|NOT_FOUND|RATE_LIMITED/);
      expect(res.json().requestId, label).toBeTruthy();
    }
    const polluting = await server.app.inject({
      method: 'POST',
      url: '/collect',
      headers: { 'content-type': 'application/json' },
      payload: '{"path": "/x", "__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}}',
    });
    expect(polluting.statusCode).toBe(202);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
