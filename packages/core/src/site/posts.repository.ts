import type { Post, PostRevision } from '@ora/contracts';
import type { PostRevisionRow, PostRow } from '@ora/db';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type ContentRow = Pick<
  PostRow,
  | 'title'
  | 'slug'
  | 'body'
  | 'excerpt'
  | 'tags'
  | 'meta_title'
  | 'meta_description'
  | 'canonical_url'
  | 'keywords'
  | 'cover_media_id'
  | 'cover_image_url'
  | 'cover_image_alt'
  | 'author_type'
  | 'author_agent_id'
  | 'author_name'
>;

/** The columns a revision copies from a post (and a restore copies back). */
export const contentColumns = [
  'title',
  'slug',
  'body',
  'excerpt',
  'tags',
  'meta_title',
  'meta_description',
  'canonical_url',
  'keywords',
  'cover_media_id',
  'cover_image_url',
  'cover_image_alt',
  'author_type',
  'author_agent_id',
  'author_name',
] as const satisfies readonly (keyof ContentRow)[];

function content(row: ContentRow) {
  return {
    title: row.title,
    slug: row.slug,
    body: row.body,
    excerpt: row.excerpt,
    tags: row.tags,
    seo: {
      metaTitle: row.meta_title,
      metaDescription: row.meta_description,
      canonicalUrl: row.canonical_url,
      keywords: row.keywords,
    },
    cover:
      row.cover_media_id || row.cover_image_url
        ? { mediaId: row.cover_media_id, url: row.cover_image_url, alt: row.cover_image_alt }
        : null,
    author: { type: row.author_type, agentId: row.author_agent_id, name: row.author_name },
  };
}

export function postRowToPost(row: PostRow): Post {
  return {
    id: row.id,
    ...content(row),
    status: row.status,
    scheduledFor: iso(row.scheduled_for),
    publishedAt: iso(row.published_at),
    revision: row.revision,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function revisionRowToRevision(row: PostRevisionRow): PostRevision {
  return {
    postId: row.post_id,
    revision: row.revision,
    ...content(row),
    change: row.change,
    replacedAt: row.replaced_at.toISOString(),
    replacedByKeyId: row.replaced_by_key_id,
  };
}

/** The content of a row, for copying into a revision or back. */
export function contentOf(row: ContentRow): ContentRow {
  return Object.fromEntries(contentColumns.map((c) => [c, row[c]])) as ContentRow;
}
