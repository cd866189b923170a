import { CollectInput, OraError, PublicLeadInput, PublicPostsQuery, parseOrThrow, Slug } from '@ora/contracts';
import {
  type Actor,
  buildRssFeed,
  buildSitemap,
  type CachedPage,
  etagMatches,
  getPublishedPost,
  getSettings,
  listPublishedPosts,
  pageOf,
  readMedia,
  recordPageView,
  renderPostIndexPage,
  renderPostPage,
  siteBase,
  submitPublicLead,
} from '@ora/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { System } from '../system';

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const PAGE_CSP =
  "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";
const PUBLIC_BODY_LIMIT = 64 * 1024;
const MINUTE = 60_000;

const notFound = (what: string) => new OraError({ code: 'NOT_FOUND', message: what });

/**
 * The public side of the operator's site, without a key: published posts as HTML or JSON, the RSS
 * feed, the sitemap, media, the lead form and the page-view beacon. Reads carry an ETag and
 * answer 304 to a matching If-None-Match; rendered pages are cached briefly in this process.
 */
export async function publicSiteRoutes(app: FastifyInstance, options: { system: System }): Promise<void> {
  const { system } = options;
  const { site } = system;
  const db = system.database.db;
  const cacheControl = `public, max-age=${system.config.site.maxAgeSeconds}`;

  const origin = (request: FastifyRequest) => `${request.protocol}://${request.host}`;
  const wantsHtml = (request: FastifyRequest) => (request.headers.accept ?? '').includes('text/html');
  const wantsJsonOnly = (request: FastifyRequest) =>
    (request.headers.accept ?? '').includes('application/json') && !wantsHtml(request);

  async function context(request: FastifyRequest) {
    const { settings } = await getSettings({ db });
    return { settings, base: siteBase(settings, origin(request)) };
  }

  /** Sends a cached page, or 304 when the visitor has it already. JSON goes out in the success envelope. */
  function send(request: FastifyRequest, reply: FastifyReply, page: CachedPage, envelope = false) {
    reply.header('etag', page.etag).header('cache-control', cacheControl).header('vary', 'Accept');
    reply.header('access-control-allow-origin', '*');
    if (page.contentType === HTML) reply.header('content-security-policy', PAGE_CSP);
    if (etagMatches(request.headers['if-none-match'], page.etag)) return reply.code(304).send();
    const body = envelope ? `{"data":${page.body},"requestId":${JSON.stringify(request.id)}}` : page.body;
    return reply.type(page.contentType).send(body);
  }

  async function limitByIp(request: FastifyRequest, bucket: string, limit: number): Promise<void> {
    const decision = await system.limiter.consume([
      { bucket: `public:${bucket}:${request.ip}`, limit, windowMs: MINUTE },
    ]);
    if (!decision.allowed) {
      throw new OraError({
        code: 'RATE_LIMITED',
        message: `Too many requests from this address (${limit} per minute); retry after the Retry-After seconds`,
        retryAfterSeconds: decision.tightest.resetMs / 1000,
      });
    }
  }

  app.get('/posts', async (request, reply) => {
    const query = parseOrThrow(PublicPostsQuery, request.query ?? {}, 'query');
    const html = wantsHtml(request);
    const key = `${origin(request)}|index|${html ? 'html' : 'json'}|${query.limit}|${query.cursor ?? ''}`;
    const page = await site.pages.through(key, async () => {
      const { settings, base } = await context(request);
      const posts = await listPublishedPosts(db, base, query);
      return html
        ? pageOf(renderPostIndexPage(posts, settings), HTML)
        : pageOf(JSON.stringify(posts), JSON_TYPE, { weak: true });
    });
    return send(request, reply, page as CachedPage, !html);
  });

  app.get<{ Params: { slug: string } }>('/posts/:slug', async (request, reply) => {
    const slug = request.params.slug;
    if (!Slug.safeParse(slug).success) throw notFound(`No published post "${slug.slice(0, 200)}"`);
    const json = wantsJsonOnly(request);
    const key = `${origin(request)}|post|${json ? 'json' : 'html'}|${slug}`;
    const page = await site.pages.through(key, async () => {
      const { settings, base } = await context(request);
      const post = await getPublishedPost(db, base, slug);
      if (!post) return null;
      return json
        ? pageOf(JSON.stringify(post), JSON_TYPE, { weak: true })
        : pageOf(renderPostPage(post, settings), HTML);
    });
    if (!page) throw notFound(`No published post "${slug}"`);
    return send(request, reply, page, json);
  });

  app.get('/feed.xml', async (request, reply) => {
    const page = await site.pages.through(`${origin(request)}|feed`, async () => {
      const { settings, base } = await context(request);
      return pageOf(await buildRssFeed(db, settings, base), 'application/rss+xml; charset=utf-8');
    });
    return send(request, reply, page as CachedPage);
  });

  app.get('/sitemap.xml', async (request, reply) => {
    const page = await site.pages.through(`${origin(request)}|sitemap`, async () => {
      const { base } = await context(request);
      return pageOf(await buildSitemap(db, base), 'application/xml; charset=utf-8');
    });
    return send(request, reply, page as CachedPage);
  });

  app.get<{ Params: { id: string } }>('/media/:id', async (request, reply) => {
    const id = request.params.id;
    if (!z.uuid().safeParse(id).success) throw notFound(`No media "${id.slice(0, 100)}"`);
    const found = await readMedia({ db, store: site.media }, id);
    if (!found) throw notFound(`No media ${id}`);
    const { media, data } = found;
    reply
      .header('etag', `"${media.sha256}"`)
      // An id's bytes never change: a new upload is a new id.
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('content-security-policy', MEDIA_CSP)
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('access-control-allow-origin', '*')
      .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(media.filename)}`);
    if (etagMatches(request.headers['if-none-match'], `"${media.sha256}"`)) return reply.code(304).send();
    return reply.type(media.content_type).send(data);
  });

  // The lead form and the beacon are posted from the operator's pages, maybe on another origin.
  const preflight = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '86400')
      .send();
  app.options('/leads', preflight);
  app.options('/collect', preflight);

  app.post('/leads', { bodyLimit: PUBLIC_BODY_LIMIT }, async (request, reply) => {
    reply.header('access-control-allow-origin', '*');
    await limitByIp(request, 'leads', system.config.site.leadsPerMinute);
    const input = parseOrThrow(PublicLeadInput, request.body ?? {}, 'form');
    const actor: Actor = { keyId: null, scopes: [], agentId: null, ip: request.ip, requestId: request.id };
    await submitPublicLead({ db, clock: site.clock }, actor, input);
    // The same answer whether or not the honeypot caught it.
    return reply.code(201).send({ data: { received: true }, requestId: request.id });
  });

  // logLevel warn: the request log would otherwise keep the visitor's address, which /collect must not.
  app.post('/collect', { bodyLimit: PUBLIC_BODY_LIMIT, logLevel: 'warn' }, async (request, reply) => {
    reply.header('access-control-allow-origin', '*');
    await limitByIp(request, 'collect', system.config.site.collectPerMinute);
    const input = parseOrThrow(CollectInput, request.body ?? {}, 'page view');
    const result = await recordPageView({ db, clock: site.clock, salts: site.salts }, input, {
      ip: request.ip,
      userAgent: request.headers['user-agent'],
      host: request.host,
    });
    return reply.code(202).send({ data: result, requestId: request.id });
  });
}
