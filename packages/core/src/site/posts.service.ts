import { type ActionData, type ActionOutput, OraError, type Post } from '@ora/contracts';
import type { PostRow, PostRowUpdate } from '@ora/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import { recordEvent } from '../events/events';
import { decodeCursor, encodeCursor, pageFrom, timeIdAfter } from '../shared/cursor';
import { type Actor, type Clock, type Db, type DbOrTx, type Logger, systemActor } from '../shared/deps';
import { contentOf, postRowToPost, revisionRowToRevision } from './posts.repository';
import { getSettings, postUrl } from './settings.service';
import { firstFreeSlug, slugify } from './slug';

export interface PostDeps {
  db: Db;
  clock: Clock;
}

type CreateInput = ActionData<'posts.create'>;
type UpdateInput = ActionData<'posts.update'>;

const SLUG_RETRIES = 5;

/** A unique-index violation on the slug (Postgres and PGlite both report SQLSTATE 23505). */
function isSlugTaken(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; message?: string } | null;
  return e?.code === '23505' && (e.constraint === 'idx_posts_slug' || /idx_posts_slug/.test(e.message ?? ''));
}

function slugConflict(slug: string): OraError {
  return new OraError({
    code: 'CONFLICT',
    message: `The slug "${slug}" is taken by another post; choose another`,
    details: { slug },
  });
}

/** The first free slug from `base` (base, base-2, ...), ignoring the post `exceptId`. */
async function freeSlug(db: DbOrTx, base: string, exceptId?: string): Promise<string> {
  let query = db
    .selectFrom('posts')
    .select('slug')
    .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]));
  if (exceptId) query = query.where('id', '<>', exceptId);
  const rows = await query.execute();
  return firstFreeSlug(base, new Set(rows.map((r) => r.slug)));
}

async function slugTakenByOther(db: DbOrTx, slug: string, exceptId?: string): Promise<boolean> {
  let query = db.selectFrom('posts').select('id').where('slug', '=', slug);
  if (exceptId) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

async function assertMediaExists(db: DbOrTx, mediaId: string | null | undefined): Promise<void> {
  if (!mediaId) return;
  const found = await db.selectFrom('media').select('id').where('id', '=', mediaId).executeTakeFirst();
  if (!found) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `No media with id ${mediaId}; upload it with media.upload first`,
      details: { issues: [{ path: 'cover.mediaId', message: 'no such media', code: 'not_found' }] },
    });
  }
}

async function findPostRow(db: DbOrTx, id: string, forUpdate = false): Promise<PostRow> {
  let query = db.selectFrom('posts').selectAll().where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No post with id ${id}` });
  return row;
}

function authorColumns(
  actor: Actor,
  author: CreateInput['author'],
  defaultAuthor: string | null,
): Pick<PostRow, 'author_type' | 'author_agent_id' | 'author_name'> {
  const type = author?.type ?? (actor.agentId ? 'agent' : 'operator');
  const agentId = type === 'agent' ? (author?.agentId ?? actor.agentId ?? null) : null;
  if (actor.agentId && agentId && agentId !== actor.agentId) {
    throw new OraError({
      code: 'FORBIDDEN',
      message: 'A key bound to an agent can only sign posts as that agent',
    });
  }
  const name = author?.name ?? (type === 'operator' ? defaultAuthor : null);
  return { author_type: type, author_agent_id: agentId, author_name: name };
}

/** Column values for the content fields an input sets (absent fields are left out). */
function contentChanges(input: Omit<UpdateInput, 'id' | 'expectedRevision'>): PostRowUpdate {
  const changes: PostRowUpdate = {};
  if (input.title !== undefined) changes.title = input.title;
  if (input.body !== undefined) changes.body = input.body;
  if (input.excerpt !== undefined) changes.excerpt = input.excerpt;
  if (input.tags !== undefined) changes.tags = input.tags;
  if (input.seo) {
    if (input.seo.metaTitle !== undefined) changes.meta_title = input.seo.metaTitle;
    if (input.seo.metaDescription !== undefined) changes.meta_description = input.seo.metaDescription;
    if (input.seo.canonicalUrl !== undefined) changes.canonical_url = input.seo.canonicalUrl;
    if (input.seo.keywords !== undefined) changes.keywords = input.seo.keywords;
  }
  if (input.cover === null) {
    Object.assign(changes, { cover_media_id: null, cover_image_url: null, cover_image_alt: null });
  } else if (input.cover) {
    if (input.cover.mediaId !== undefined) changes.cover_media_id = input.cover.mediaId;
    if (input.cover.url !== undefined) changes.cover_image_url = input.cover.url;
    if (input.cover.alt !== undefined) changes.cover_image_alt = input.cover.alt;
    // One picture: setting one source clears the other.
    if (input.cover.mediaId) changes.cover_image_url = null;
    if (input.cover.url) changes.cover_media_id = null;
  }
  return changes;
}

/** Runs `work`, again when a concurrent writer took the generated slug first. */
async function withSlugRetry<T>(generated: boolean, slug: () => string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isSlugTaken(error)) throw error;
      if (!generated || attempt >= SLUG_RETRIES) throw slugConflict(slug());
    }
  }
}

export async function createPost(deps: PostDeps, actor: Actor, input: CreateInput): Promise<Post> {
  const { settings } = await getSettings(deps);
  const base = input.slug ?? slugify(input.title);
  let slug = base;
  const row = await withSlugRetry(
    input.slug === undefined,
    () => slug,
    () =>
      deps.db.transaction().execute(async (trx) => {
        await assertMediaExists(trx, input.cover?.mediaId);
        if (input.slug !== undefined) {
          if (await slugTakenByOther(trx, input.slug)) throw slugConflict(input.slug);
        } else {
          // Writers of the same title take turns here, so each sees the others' slugs.
          await sql`select pg_advisory_xact_lock(hashtext(${`ora.slug:${base}`}))`.execute(trx);
          slug = await freeSlug(trx, base);
        }
        const inserted = await trx
          .insertInto('posts')
          .values({
            title: input.title,
            slug,
            body: input.body ?? '',
            excerpt: input.excerpt ?? null,
            tags: input.tags ?? [],
            meta_title: input.seo?.metaTitle ?? null,
            meta_description: input.seo?.metaDescription ?? null,
            canonical_url: input.seo?.canonicalUrl ?? null,
            keywords: input.seo?.keywords ?? [],
            cover_media_id: input.cover?.mediaId ?? null,
            cover_image_url: input.cover?.url ?? null,
            cover_image_alt: input.cover?.alt ?? null,
            ...authorColumns(actor, input.author, settings.defaultAuthor),
            created_by_key_id: actor.keyId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, actor, {
          action: 'posts.create',
          targetType: 'post',
          targetId: inserted.id,
          details: { slug: inserted.slug, title: inserted.title },
        });
        return inserted;
      }),
  );
  return postRowToPost(row);
}

export async function getPost(
  deps: Pick<PostDeps, 'db'>,
  _actor: Actor,
  input: ActionData<'posts.get'>,
): Promise<Post> {
  const byId = 'id' in input;
  const row = await deps.db
    .selectFrom('posts')
    .selectAll()
    .where(byId ? 'id' : 'slug', '=', byId ? input.id : input.slug)
    .executeTakeFirst();
  if (!row) {
    throw new OraError({
      code: 'NOT_FOUND',
      message: byId ? `No post with id ${input.id}` : `No post with slug "${input.slug}"`,
    });
  }
  return postRowToPost(row);
}

export async function listPosts(
  deps: Pick<PostDeps, 'db'>,
  _actor: Actor,
  input: ActionData<'posts.list'>,
): Promise<ActionOutput<'posts.list'>> {
  let query = deps.db
    .selectFrom('posts')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.status) query = query.where('status', '=', input.status);
  if (input.tag) query = query.where('tags', '@>', sql<string[]>`array[${input.tag}]::text[]`);
  const after = timeIdAfter(input.cursor);
  if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(...after)));
  return pageFrom(await query.execute(), input.limit, (row) => [row.created_at.toISOString(), row.id], postRowToPost);
}

/** Changes a post's content; the state it replaces is kept as a revision. Status changes have their own actions. */
export async function updatePost(deps: PostDeps, actor: Actor, input: UpdateInput): Promise<Post> {
  const row = await withSlugRetry(
    false,
    () => input.slug ?? '',
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await findPostRow(trx, input.id, true);
        if (input.expectedRevision !== undefined && input.expectedRevision !== current.revision) {
          throw new OraError({
            code: 'CONFLICT',
            message: `Post ${current.id} is at revision ${current.revision}, not ${input.expectedRevision}; read it again and retry`,
            details: { revision: current.revision },
          });
        }
        const changes = contentChanges(input);
        if (input.slug !== undefined && input.slug !== current.slug) {
          if (await slugTakenByOther(trx, input.slug, current.id)) throw slugConflict(input.slug);
          changes.slug = input.slug;
        }
        if (input.author) {
          const { settings } = await getSettings({ db: trx });
          Object.assign(changes, authorColumns(actor, input.author, settings.defaultAuthor));
        }
        if (changes.cover_media_id) await assertMediaExists(trx, changes.cover_media_id);
        const changed = Object.keys(changes).filter(
          (column) =>
            JSON.stringify((changes as Record<string, unknown>)[column]) !==
            JSON.stringify((current as Record<string, unknown>)[column]),
        );
        if (changed.length === 0) return current; // nothing new: no revision, no bump
        await trx
          .insertInto('post_revisions')
          .values({
            post_id: current.id,
            revision: current.revision,
            ...contentOf(current),
            change: 'update',
            replaced_at: deps.clock.now(),
            replaced_by_key_id: actor.keyId,
          })
          .execute();
        const updated = await trx
          .updateTable('posts')
          .set({ ...changes, revision: current.revision + 1, updated_at: deps.clock.now() })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, actor, {
          action: 'posts.update',
          targetType: 'post',
          targetId: current.id,
          details: { changed, revision: updated.revision },
        });
        return updated;
      }),
  );
  return postRowToPost(row);
}

async function markPublished(
  trx: DbOrTx,
  actor: Actor,
  current: PostRow,
  publishedAt: Date,
  now: Date,
  how: 'now' | 'scheduled',
): Promise<PostRow> {
  const published = await trx
    .updateTable('posts')
    .set({ status: 'published', published_at: publishedAt, scheduled_for: null, updated_at: now })
    .where('id', '=', current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const { settings } = await getSettings({ db: trx });
  await recordAudit(trx, actor, {
    action: 'posts.publish',
    targetType: 'post',
    targetId: current.id,
    details: { how, from: current.status, slug: published.slug },
  });
  await recordEvent(trx, actor, 'post.published', {
    postId: published.id,
    slug: published.slug,
    title: published.title,
    url: postUrl(settings, published.slug),
    publishedAt: publishedAt.toISOString(),
  });
  return published;
}

/** Publishes now (emits post.published in the same transaction). Publishing a published post changes nothing. */
export async function publishPost(deps: PostDeps, actor: Actor, input: ActionData<'posts.publish'>): Promise<Post> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findPostRow(trx, input.id, true);
    if (current.status === 'published') return current;
    const now = deps.clock.now();
    // A post that was out before keeps its first publication date.
    return markPublished(trx, actor, current, current.published_at ?? now, now, 'now');
  });
  return postRowToPost(row);
}

export async function unpublishPost(deps: PostDeps, actor: Actor, input: ActionData<'posts.unpublish'>): Promise<Post> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findPostRow(trx, input.id, true);
    const status = input.archive ? 'archived' : 'draft';
    if (current.status === status) return current;
    const updated = await trx
      .updateTable('posts')
      .set({ status, scheduled_for: null, updated_at: deps.clock.now() })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'posts.unpublish',
      targetType: 'post',
      targetId: current.id,
      details: { from: current.status, to: status },
    });
    return updated;
  });
  return postRowToPost(row);
}

/** Sets a post to go out at a future time; `publishDuePosts` publishes it then. */
export async function schedulePost(deps: PostDeps, actor: Actor, input: ActionData<'posts.schedule'>): Promise<Post> {
  const publishAt = new Date(input.publishAt);
  const now = deps.clock.now();
  if (publishAt.getTime() <= now.getTime()) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: 'publishAt must be in the future; use posts.publish to publish now',
      details: { issues: [{ path: 'publishAt', message: 'not in the future', code: 'too_small' }] },
    });
  }
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findPostRow(trx, input.id, true);
    if (current.status === 'published') {
      throw new OraError({
        code: 'CONFLICT',
        message: `Post ${current.id} is already published; unpublish it first to schedule it again`,
      });
    }
    const updated = await trx
      .updateTable('posts')
      .set({ status: 'scheduled', scheduled_for: publishAt, updated_at: now })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'posts.schedule',
      targetType: 'post',
      targetId: current.id,
      details: { from: current.status, publishAt: publishAt.toISOString() },
    });
    return updated;
  });
  return postRowToPost(row);
}

export async function deletePost(
  deps: PostDeps,
  actor: Actor,
  input: ActionData<'posts.delete'>,
): Promise<ActionOutput<'posts.delete'>> {
  await deps.db.transaction().execute(async (trx) => {
    const current = await findPostRow(trx, input.id, true);
    await trx.deleteFrom('posts').where('id', '=', current.id).execute();
    await recordAudit(trx, actor, {
      action: 'posts.delete',
      targetType: 'post',
      targetId: current.id,
      details: { slug: current.slug, title: current.title, status: current.status },
    });
  });
  return { id: input.id, deleted: true };
}

export async function listPostRevisions(
  deps: Pick<PostDeps, 'db'>,
  _actor: Actor,
  input: ActionData<'posts.revisions'>,
): Promise<ActionOutput<'posts.revisions'>> {
  await findPostRow(deps.db, input.id);
  let query = deps.db
    .selectFrom('post_revisions')
    .selectAll()
    .where('post_id', '=', input.id)
    .orderBy('revision', 'desc')
    .limit(input.limit + 1);
  if (input.cursor) {
    const [revision] = decodeCursor(input.cursor, z.tuple([z.number().int()]));
    query = query.where('revision', '<', revision);
  }
  const rows = await query.execute();
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  return {
    items: items.map(revisionRowToRevision),
    nextCursor: rows.length > input.limit && last ? encodeCursor([last.revision]) : null,
  };
}

/** Makes an earlier revision the current content; what was current is kept as a revision too. */
export async function restorePostRevision(
  deps: PostDeps,
  actor: Actor,
  input: ActionData<'posts.restore'>,
): Promise<Post> {
  const row = await withSlugRetry(
    false,
    () => '',
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await findPostRow(trx, input.id, true);
        const target = await trx
          .selectFrom('post_revisions')
          .selectAll()
          .where('post_id', '=', current.id)
          .where('revision', '=', input.revision)
          .executeTakeFirst();
        if (!target) {
          throw new OraError({
            code: 'NOT_FOUND',
            message:
              input.revision === current.revision
                ? `Revision ${input.revision} is the current one of post ${current.id}`
                : `Post ${current.id} has no revision ${input.revision}`,
          });
        }
        const restored = contentOf(target);
        if (restored.slug !== current.slug && (await slugTakenByOther(trx, restored.slug, current.id))) {
          throw slugConflict(restored.slug);
        }
        if (restored.cover_media_id) {
          const media = await trx
            .selectFrom('media')
            .select('id')
            .where('id', '=', restored.cover_media_id)
            .executeTakeFirst();
          if (!media) restored.cover_media_id = null; // deleted since; the rest comes back
        }
        const now = deps.clock.now();
        await trx
          .insertInto('post_revisions')
          .values({
            post_id: current.id,
            revision: current.revision,
            ...contentOf(current),
            change: 'restore',
            replaced_at: now,
            replaced_by_key_id: actor.keyId,
          })
          .execute();
        const updated = await trx
          .updateTable('posts')
          .set({ ...restored, revision: current.revision + 1, updated_at: now })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, actor, {
          action: 'posts.restore',
          targetType: 'post',
          targetId: current.id,
          details: { restoredRevision: input.revision, revision: updated.revision },
        });
        return updated;
      }),
  );
  return postRowToPost(row);
}

/**
 * Publishes every scheduled post whose time has come, each with its post.published event in the
 * same transaction. Safe to run from many processes at once (rows are claimed with SKIP LOCKED),
 * and idempotent: a post is published once. A maintenance job: run it every few seconds.
 */
export async function publishDuePosts(
  deps: PostDeps & { log?: Logger },
  options: { limit?: number } = {},
): Promise<Post[]> {
  const now = deps.clock.now();
  const rows = await deps.db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('posts')
      .selectAll()
      .where('status', '=', 'scheduled')
      .where('scheduled_for', '<=', now)
      .orderBy('scheduled_for')
      .limit(options.limit ?? 100)
      .forUpdate()
      .skipLocked()
      .execute();
    const published: PostRow[] = [];
    for (const post of due) {
      published.push(await markPublished(trx, systemActor, post, post.scheduled_for ?? now, now, 'scheduled'));
    }
    return published;
  });
  if (rows.length > 0) deps.log?.info({ posts: rows.map((r) => r.slug) }, 'published scheduled posts');
  return rows.map(postRowToPost);
}
