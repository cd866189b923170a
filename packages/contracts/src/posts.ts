import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';

export const PostStatus = z.enum(['draft', 'scheduled', 'published', 'archived']);
export type PostStatus = z.infer<typeof PostStatus>;

export const Slug = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase letters, digits and single hyphens, e.g. "my-first-post"');

const HttpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .meta({ description: 'An absolute http(s) URL' });

export const PostAuthor = z.object({
  type: z.enum(['operator', 'agent']),
  agentId: Id.nullable(),
  name: z.string().max(200).nullable(),
});
export type PostAuthor = z.infer<typeof PostAuthor>;

export const PostSeo = z.object({
  metaTitle: z.string().max(300).nullable(),
  metaDescription: z.string().max(1000).nullable(),
  canonicalUrl: HttpUrl.nullable(),
  keywords: z.array(z.string().trim().min(1).max(100)).max(50),
});
export type PostSeo = z.infer<typeof PostSeo>;

export const PostCover = z.object({
  mediaId: Id.nullable().meta({ description: 'An uploaded media item (served at /media/<id>)' }),
  url: HttpUrl.nullable().meta({ description: 'Or an image elsewhere' }),
  alt: z.string().max(500).nullable(),
});
export type PostCover = z.infer<typeof PostCover>;

/** The parts of a post a revision keeps. */
const PostContent = {
  title: z.string(),
  slug: z.string(),
  body: z.string().meta({ description: 'Markdown' }),
  excerpt: z.string().nullable(),
  tags: z.array(z.string()),
  seo: PostSeo,
  cover: PostCover.nullable(),
  author: PostAuthor,
};

export const Post = z
  .object({
    id: Id,
    ...PostContent,
    status: PostStatus,
    scheduledFor: Timestamp.nullable().meta({ description: 'When a scheduled post goes out' }),
    publishedAt: Timestamp.nullable(),
    revision: z.number().int().meta({ description: 'Bumped by every update or restore; earlier ones are kept' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ description: 'A post of the operator’s site' });
export type Post = z.infer<typeof Post>;

export const PostRevision = z
  .object({
    postId: Id,
    revision: z.number().int(),
    ...PostContent,
    change: z.enum(['update', 'restore']).meta({ description: 'What replaced this revision' }),
    replacedAt: Timestamp,
    replacedByKeyId: Id.nullable(),
  })
  .meta({ description: 'An earlier state of a post, kept when an update or restore replaced it' });
export type PostRevision = z.infer<typeof PostRevision>;

const Title = z.string().trim().min(1).max(300);
const Tags = z.array(z.string().trim().min(1).max(100)).max(50);
const SeoInput = z.object({
  metaTitle: z.string().trim().max(300).nullable().optional(),
  metaDescription: z.string().trim().max(1000).nullable().optional(),
  canonicalUrl: HttpUrl.nullable().optional(),
  keywords: Tags.optional(),
});
const CoverInput = z
  .object({
    mediaId: Id.nullable().optional(),
    url: HttpUrl.nullable().optional(),
    alt: z.string().max(500).nullable().optional(),
  })
  .refine((c) => !(c.mediaId && c.url), 'give mediaId or url, not both');
const AuthorInput = z.object({
  type: z.enum(['operator', 'agent']),
  agentId: Id.nullable().optional(),
  name: z.string().trim().max(200).nullable().optional(),
});

const PostFields = {
  slug: Slug.optional().meta({ description: 'Unique; generated from the title when absent' }),
  body: z.string().max(1_000_000).optional(),
  excerpt: z.string().max(2000).nullable().optional(),
  tags: Tags.optional(),
  seo: SeoInput.optional(),
  cover: CoverInput.nullable().optional(),
  author: AuthorInput.optional().meta({
    description: 'Default: the key’s agent when the key is bound to one, else the operator (settings.defaultAuthor)',
  }),
};

export const PostsCreateInput = z.object({ title: Title, ...PostFields });
export const PostsUpdateInput = z.object({
  id: Id,
  title: Title.optional(),
  ...PostFields,
  expectedRevision: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Refuse (CONFLICT) when the post has moved past this revision meanwhile' }),
});
export const PostsGetInput = z.union([z.object({ id: Id }), z.object({ slug: Slug })]);
export const PostsListInput = PageInput.extend({
  status: PostStatus.optional(),
  tag: z.string().max(100).optional(),
});
export const PostsListOutput = page(Post);
export const PostsPublishInput = z.object({ id: Id });
export const PostsUnpublishInput = z.object({
  id: Id,
  archive: z.boolean().default(false).meta({ description: 'true: archived instead of back to draft' }),
});
export const PostsScheduleInput = z.object({
  id: Id,
  publishAt: Timestamp.meta({ description: 'A future time; the post goes out then' }),
});
export const PostsDeleteInput = z.object({ id: Id });
export const PostsDeleteOutput = z.object({ id: Id, deleted: z.literal(true) });
export const PostsRevisionsInput = PageInput.extend({ id: Id });
export const PostsRevisionsOutput = page(PostRevision);
export const PostsRestoreInput = z.object({
  id: Id,
  revision: z.number().int().min(1),
});

/** A published post as the public read side lists it. */
export const PublicPostSummary = z.object({
  slug: z.string(),
  title: z.string(),
  excerpt: z.string().nullable(),
  tags: z.array(z.string()),
  author: z.string().nullable(),
  coverImageUrl: z.string().nullable(),
  url: z.string(),
  publishedAt: Timestamp,
  updatedAt: Timestamp,
});
export type PublicPostSummary = z.infer<typeof PublicPostSummary>;

export const PublicPost = PublicPostSummary.extend({
  html: z.string().meta({ description: 'The body rendered from markdown and sanitised' }),
  coverImageAlt: z.string().nullable(),
  seo: PostSeo,
});
export type PublicPost = z.infer<typeof PublicPost>;

export const PublicPostsQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
