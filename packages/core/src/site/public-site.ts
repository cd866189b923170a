import type { PublicPost, PublicPostSummary, SiteSettings } from '@ora/contracts';
import type { PostRow } from '@ora/db';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import type { DbOrTx } from '../shared/deps';
import { escapeHtml, escapeXml, renderMarkdown } from './render';

/** Where links on the public side start: the configured site URL, else the address the visitor used. */
export function siteBase(settings: Pick<SiteSettings, 'siteUrl'>, requestOrigin: string): string {
  return (settings.siteUrl ?? requestOrigin).replace(/\/+$/, '');
}

function summary(row: PostRow, base: string): PublicPostSummary {
  return {
    slug: row.slug,
    title: row.title,
    excerpt: row.excerpt,
    tags: row.tags,
    author: row.author_name,
    coverImageUrl: row.cover_media_id ? `${base}/media/${row.cover_media_id}` : row.cover_image_url,
    url: `${base}/posts/${row.slug}`,
    publishedAt: (row.published_at as Date).toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toPublicPost(row: PostRow, base: string): PublicPost {
  return {
    ...summary(row, base),
    html: renderMarkdown(row.body),
    coverImageAlt: row.cover_image_alt,
    seo: {
      metaTitle: row.meta_title,
      metaDescription: row.meta_description,
      canonicalUrl: row.canonical_url,
      keywords: row.keywords,
    },
  };
}

/** Published posts, newest first, a page at a time. */
export async function listPublishedPosts(
  db: DbOrTx,
  base: string,
  input: { cursor?: string | undefined; limit: number },
): Promise<{ items: PublicPostSummary[]; nextCursor: string | null }> {
  let query = db
    .selectFrom('posts')
    .selectAll()
    .where('status', '=', 'published')
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.cursor) {
    const [publishedAt, id] = decodeCursor(input.cursor, z.tuple([z.iso.datetime(), z.uuid()]));
    query = query.where((eb) => eb(eb.refTuple('published_at', 'id'), '<', eb.tuple(new Date(publishedAt), id)));
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: items.map((row) => summary(row, base)),
    nextCursor:
      rows.length > input.limit && last ? encodeCursor([(last.published_at as Date).toISOString(), last.id]) : null,
  };
}

/** One published post with its body rendered to sanitised HTML, or null. */
export async function getPublishedPost(db: DbOrTx, base: string, slug: string): Promise<PublicPost | null> {
  const row = await db
    .selectFrom('posts')
    .selectAll()
    .where('slug', '=', slug)
    .where('status', '=', 'published')
    .executeTakeFirst();
  return row ? toPublicPost(row, base) : null;
}

async function latestPublished(db: DbOrTx, limit: number): Promise<PostRow[]> {
  return db
    .selectFrom('posts')
    .selectAll()
    .where('status', '=', 'published')
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

const pageStyle =
  'body{font:18px/1.6 Georgia,serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}' +
  'img{max-width:100%;height:auto}pre{background:#f4f4f4;padding:.75rem;overflow:auto}' +
  'header a,footer a{color:inherit}.meta{color:#666;font-size:.9em}';

function page(settings: SiteSettings, title: string, head: string, main: string): string {
  return `<!doctype html>
<html lang="${escapeHtml(settings.language)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${head}<link rel="alternate" type="application/rss+xml" title="${escapeHtml(settings.siteName)}" href="/feed.xml">
<style>${pageStyle}</style></head>
<body><header><a href="/posts">${escapeHtml(settings.siteName)}</a></header>
<main>${main}</main></body></html>`;
}

/** The HTML page of one post. Everything but the already-sanitised body is escaped here. */
export function renderPostPage(post: PublicPost, settings: SiteSettings): string {
  const description = post.seo.metaDescription ?? post.excerpt ?? '';
  const head = [
    description ? `<meta name="description" content="${escapeHtml(description)}">` : '',
    post.seo.keywords.length ? `<meta name="keywords" content="${escapeHtml(post.seo.keywords.join(', '))}">` : '',
    `<link rel="canonical" href="${escapeHtml(post.seo.canonicalUrl ?? post.url)}">`,
    `<meta property="og:type" content="article">`,
    `<meta property="og:title" content="${escapeHtml(post.seo.metaTitle ?? post.title)}">`,
    `<meta property="og:url" content="${escapeHtml(post.url)}">`,
    post.coverImageUrl ? `<meta property="og:image" content="${escapeHtml(post.coverImageUrl)}">` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const cover =
    post.coverImageUrl && /^(https?:\/\/|\/)/.test(post.coverImageUrl)
      ? `<img src="${escapeHtml(post.coverImageUrl)}" alt="${escapeHtml(post.coverImageAlt ?? '')}">`
      : '';
  const main = `<article>
<h1>${escapeHtml(post.title)}</h1>
<p class="meta"><time datetime="${post.publishedAt}">${post.publishedAt.slice(0, 10)}</time>${post.author ? ` · ${escapeHtml(post.author)}` : ''}${post.tags.length ? ` · ${post.tags.map(escapeHtml).join(', ')}` : ''}</p>
${cover}
${post.html}
</article>`;
  return page(settings, `${post.seo.metaTitle ?? post.title} · ${settings.siteName}`, `${head}\n`, main);
}

/** The HTML index of published posts, with a link to the next page. */
export function renderPostIndexPage(
  posts: { items: PublicPostSummary[]; nextCursor: string | null },
  settings: SiteSettings,
): string {
  const items = posts.items
    .map(
      (p) =>
        `<li><a href="/posts/${escapeHtml(p.slug)}">${escapeHtml(p.title)}</a> <span class="meta">${p.publishedAt.slice(0, 10)}</span>${p.excerpt ? `<br>${escapeHtml(p.excerpt)}` : ''}</li>`,
    )
    .join('\n');
  const more = posts.nextCursor
    ? `<p><a href="/posts?cursor=${encodeURIComponent(posts.nextCursor)}">Older posts</a></p>`
    : '';
  const description = settings.description
    ? `<meta name="description" content="${escapeHtml(settings.description)}">\n`
    : '';
  return page(
    settings,
    settings.siteName,
    description,
    `<h1>${escapeHtml(settings.siteName)}</h1>\n<ul>${items}</ul>${more}`,
  );
}

/** XML text as CDATA (a `]]>` inside is split across two sections). */
function cdata(text: string): string {
  return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** RSS 2.0 of the latest published posts, full content in content:encoded. */
export async function buildRssFeed(db: DbOrTx, settings: SiteSettings, base: string, limit = 20): Promise<string> {
  const rows = await latestPublished(db, limit);
  const newest = rows[0]?.published_at ?? null;
  const items = rows
    .map((row) => {
      const post = toPublicPost(row, base);
      const description = post.excerpt ?? post.seo.metaDescription ?? post.title;
      return `<item>
<title>${escapeXml(post.title)}</title>
<link>${escapeXml(post.url)}</link>
<guid isPermaLink="true">${escapeXml(post.url)}</guid>
<pubDate>${(row.published_at as Date).toUTCString()}</pubDate>
<description>${escapeXml(description)}</description>
${post.author ? `<dc:creator>${escapeXml(post.author)}</dc:creator>\n` : ''}${post.tags.map((t) => `<category>${escapeXml(t)}</category>`).join('\n')}
<content:encoded>${cdata(post.html)}</content:encoded>
</item>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>${escapeXml(settings.siteName)}</title>
<link>${escapeXml(`${base}/posts`)}</link>
<description>${escapeXml(settings.description || settings.siteName)}</description>
<language>${escapeXml(settings.language)}</language>
<generator>ORA</generator>
<atom:link href="${escapeXml(`${base}/feed.xml`)}" rel="self" type="application/rss+xml"/>
${newest ? `<lastBuildDate>${newest.toUTCString()}</lastBuildDate>\n` : ''}${items}
</channel>
</rss>
`;
}

/** sitemaps.org 0.9: the post index and every published post. */
export async function buildSitemap(db: DbOrTx, base: string): Promise<string> {
  const rows = await latestPublished(db, 50_000);
  const newest = rows.reduce<Date | null>((max, r) => (!max || r.updated_at > max ? r.updated_at : max), null);
  const urls = [
    `<url><loc>${escapeXml(`${base}/posts`)}</loc>${newest ? `<lastmod>${newest.toISOString()}</lastmod>` : ''}</url>`,
    ...rows.map(
      (r) =>
        `<url><loc>${escapeXml(`${base}/posts/${r.slug}`)}</loc><lastmod>${r.updated_at.toISOString()}</lastmod></url>`,
    ),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
${urls.join('\n')}
</urlset>
`;
}
