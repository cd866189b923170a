import { createHash, randomBytes } from 'node:crypto';
import {
  type ActionData,
  type AnalyticsPost,
  type AnalyticsSummary,
  type CollectInput,
  OraError,
} from '@ora/contracts';
import { sql } from 'kysely';
import type { Clock, Db, DbOrTx } from '../shared/deps';

const DAY_MS = 24 * 3600 * 1000;
const MAX_RANGE_DAYS = 366;

/** The UTC day of a time, YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The salt of the current UTC day, shared by every process through the database and kept in memory
 * for the day. A salt is deleted once its day is over, so a visitor hash can never be recomputed
 * (nor linked to another day's) afterwards.
 */
export class DailySalts {
  #current: { day: string; salt: string } | null = null;

  async saltFor(db: DbOrTx, day: string): Promise<string> {
    if (this.#current?.day === day) return this.#current.salt;
    await db
      .insertInto('analytics_salts')
      .values({ day, salt: randomBytes(32).toString('base64') })
      .onConflict((oc) => oc.column('day').doNothing())
      .execute();
    const row = await db.selectFrom('analytics_salts').select('salt').where('day', '=', day).executeTakeFirstOrThrow();
    await purgeSaltsBefore(db, day);
    this.#current = { day, salt: row.salt };
    return row.salt;
  }
}

async function purgeSaltsBefore(db: DbOrTx, day: string): Promise<number> {
  const result = await db.deleteFrom('analytics_salts').where('day', '<', day).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes the salts of days that are over (a maintenance job). */
export async function purgeExpiredSalts(deps: { db: Db; clock: Clock }): Promise<number> {
  return purgeSaltsBefore(deps.db, utcDay(deps.clock.now()));
}

export interface AnalyticsDeps {
  db: Db;
  clock: Clock;
  salts: DailySalts;
}

export interface Visitor {
  ip: string;
  userAgent: string | undefined;
  /** The host the page was served from: referrers from it are internal navigation, not kept. */
  host?: string | undefined;
}

const BOT = /bot|crawl|spider|slurp|preview|headless|lighthouse|curl|wget|python-|httpclient|java\/|go-http|okhttp/i;

/** A device class from a user agent; the user agent itself is never stored. */
export function deviceClass(userAgent: string | undefined): 'desktop' | 'mobile' | 'tablet' | 'other' | 'bot' {
  if (!userAgent) return 'other';
  if (BOT.test(userAgent)) return 'bot';
  if (/ipad|tablet|kindle|silk|playbook|android(?!.*mobile)/i.test(userAgent)) return 'tablet';
  if (/mobi|iphone|ipod|android|windows phone/i.test(userAgent)) return 'mobile';
  if (/windows|macintosh|mac os x|x11|linux|cros/i.test(userAgent)) return 'desktop';
  return 'other';
}

function referrerHost(referrer: string | undefined, ownHost: string | undefined): string | null {
  if (!referrer) return null;
  try {
    const url = new URL(referrer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    const host = url.hostname.toLowerCase().replace(/^www\./, '');
    const own = ownHost
      ?.toLowerCase()
      .replace(/:\d+$/, '')
      .replace(/^www\./, '');
    return host && host !== own ? host.slice(0, 255) : null;
  } catch {
    return null;
  }
}

function cleanPath(path: string): string {
  const bare = path.split(/[?#]/, 1)[0] ?? '/';
  return (bare.replace(/\/{2,}/g, '/') || '/').slice(0, 500);
}

/**
 * Records a page view without personal data: the path (no query), the referrer's host, a device
 * class, and a visitor hash of (salt of the day, address, user agent). Bots are not counted.
 */
export async function recordPageView(
  deps: AnalyticsDeps,
  input: CollectInput,
  visitor: Visitor,
): Promise<{ recorded: boolean }> {
  const device = deviceClass(visitor.userAgent);
  if (device === 'bot') return { recorded: false };
  const now = deps.clock.now();
  const day = utcDay(now);
  const salt = await deps.salts.saltFor(deps.db, day);
  const visitorHash = createHash('sha256')
    .update(salt)
    .update('\0')
    .update(visitor.ip)
    .update('\0')
    .update(visitor.userAgent ?? '')
    .digest('base64url');
  const path = cleanPath(input.path);
  const slug = input.slug ?? /^\/posts\/([a-z0-9]+(?:-[a-z0-9]+)*)\/?$/.exec(path)?.[1];
  const post = slug
    ? await deps.db.selectFrom('posts').select('id').where('slug', '=', slug).executeTakeFirst()
    : undefined;
  await deps.db
    .insertInto('page_views')
    .values({
      day,
      viewed_at: now,
      path,
      post_id: post?.id ?? null,
      referrer_host: referrerHost(input.referrer, visitor.host),
      device,
      visitor_hash: visitorHash,
    })
    .execute();
  return { recorded: true };
}

function resolveRange(input: { from?: string | undefined; to?: string | undefined }, now: Date) {
  const to = input.to ?? utcDay(now);
  const from = input.from ?? utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS));
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (days < 1) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `"from" (${from}) is after "to" (${to})`,
      details: { issues: [{ path: 'from', message: 'after to', code: 'invalid_range' }] },
    });
  }
  if (days > MAX_RANGE_DAYS) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `The range is ${days} days; at most ${MAX_RANGE_DAYS}`,
      details: { issues: [{ path: 'from', message: 'range too long', code: 'too_big' }] },
    });
  }
  const list: string[] = [];
  for (let i = 0; i < days; i++) list.push(utcDay(new Date(Date.parse(`${from}T00:00:00Z`) + i * DAY_MS)));
  return { from, to, list };
}

type Filter = { postId?: string };

async function perDay(db: Db, from: string, to: string, filter: Filter, list: string[]) {
  let query = db
    .selectFrom('page_views')
    .select([
      sql<string>`day::text`.as('date'),
      sql<string>`count(*)`.as('views'),
      sql<string>`count(distinct visitor_hash)`.as('visitors'),
    ])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy('day');
  if (filter.postId) query = query.where('post_id', '=', filter.postId);
  const rows = new Map((await query.execute()).map((r) => [r.date, r]));
  return list.map((date) => ({
    date,
    views: Number(rows.get(date)?.views ?? 0),
    visitors: Number(rows.get(date)?.visitors ?? 0),
  }));
}

async function topReferrers(db: Db, from: string, to: string, filter: Filter, top: number) {
  let query = db
    .selectFrom('page_views')
    .select(['referrer_host', sql<string>`count(*)`.as('views')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .where('referrer_host', 'is not', null)
    .groupBy('referrer_host')
    .orderBy(sql`count(*)`, 'desc')
    .orderBy('referrer_host')
    .limit(top);
  if (filter.postId) query = query.where('post_id', '=', filter.postId);
  return (await query.execute()).map((r) => ({ referrer: r.referrer_host as string, views: Number(r.views) }));
}

export async function analyticsSummary(
  deps: Pick<AnalyticsDeps, 'db' | 'clock'>,
  input: ActionData<'analytics.summary'>,
): Promise<AnalyticsSummary> {
  const { from, to, list } = resolveRange(input, deps.clock.now());
  const inRange = deps.db.selectFrom('page_views').where('day', '>=', from).where('day', '<=', to);
  const [days, posts, paths, referrers, devices] = await Promise.all([
    perDay(deps.db, from, to, {}, list),
    inRange
      .leftJoin('posts', 'posts.id', 'page_views.post_id')
      .select([
        'page_views.post_id',
        'posts.slug',
        'posts.title',
        sql<string>`count(*)`.as('views'),
        sql<string>`count(distinct page_views.day::text || page_views.visitor_hash)`.as('visitors'),
      ])
      .where('page_views.post_id', 'is not', null)
      .groupBy(['page_views.post_id', 'posts.slug', 'posts.title'])
      .orderBy(sql`count(*)`, 'desc')
      .orderBy('page_views.post_id')
      .limit(input.top)
      .execute(),
    inRange
      .select(['path', sql<string>`count(*)`.as('views')])
      .groupBy('path')
      .orderBy(sql`count(*)`, 'desc')
      .orderBy('path')
      .limit(input.top)
      .execute(),
    topReferrers(deps.db, from, to, {}, input.top),
    inRange
      .select(['device', sql<string>`count(*)`.as('views')])
      .groupBy('device')
      .orderBy(sql`count(*)`, 'desc')
      .execute(),
  ]);
  return {
    from,
    to,
    views: days.reduce((n, d) => n + d.views, 0),
    visitors: days.reduce((n, d) => n + d.visitors, 0),
    days,
    topPosts: posts.map((p) => ({
      postId: p.post_id as string,
      slug: p.slug,
      title: p.title,
      views: Number(p.views),
      visitors: Number(p.visitors),
    })),
    topPaths: paths.map((p) => ({ path: p.path, views: Number(p.views) })),
    referrers,
    devices: devices.map((d) => ({ device: d.device, views: Number(d.views) })),
  };
}

export async function analyticsForPost(
  deps: Pick<AnalyticsDeps, 'db' | 'clock'>,
  input: ActionData<'analytics.post'>,
): Promise<AnalyticsPost> {
  const post = await deps.db
    .selectFrom('posts')
    .select(['id', 'slug', 'title'])
    .where('id', '=', input.id)
    .executeTakeFirst();
  if (!post) throw new OraError({ code: 'NOT_FOUND', message: `No post with id ${input.id}` });
  const { from, to, list } = resolveRange(input, deps.clock.now());
  const [days, referrers] = await Promise.all([
    perDay(deps.db, from, to, { postId: post.id }, list),
    topReferrers(deps.db, from, to, { postId: post.id }, 10),
  ]);
  return {
    postId: post.id,
    slug: post.slug,
    title: post.title,
    from,
    to,
    views: days.reduce((n, d) => n + d.views, 0),
    visitors: days.reduce((n, d) => n + d.visitors, 0),
    days,
    referrers,
  };
}
