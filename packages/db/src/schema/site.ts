import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface MediaTable {
  id: Generated<string>;
  filename: string;
  /** Sniffed from the bytes. */
  content_type: string;
  size_bytes: number;
  sha256: string;
  alt: string | null;
  storage: 'local' | 's3';
  /** Where the store keeps the bytes (a relative path or an object key). */
  storage_key: string;
  created_by_key_id: string | null;
  created_by_agent_id: string | null;
  created_at: Generated<Date>;
}
export type MediaRow = Selectable<MediaTable>;
export type NewMediaRow = Insertable<MediaTable>;
export type MediaRowUpdate = Updateable<MediaTable>;

export type PostStatusValue = 'draft' | 'scheduled' | 'published' | 'archived';

export interface PostTable {
  id: Generated<string>;
  slug: string;
  title: string;
  /** Markdown. */
  body: Generated<string>;
  excerpt: string | null;
  tags: Generated<string[]>;
  meta_title: string | null;
  meta_description: string | null;
  canonical_url: string | null;
  keywords: Generated<string[]>;
  cover_media_id: string | null;
  cover_image_url: string | null;
  cover_image_alt: string | null;
  author_type: Generated<'operator' | 'agent'>;
  author_agent_id: string | null;
  author_name: string | null;
  status: Generated<PostStatusValue>;
  scheduled_for: Date | null;
  published_at: Date | null;
  /** Bumped by every update or restore. */
  revision: Generated<number>;
  created_by_key_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type PostRow = Selectable<PostTable>;
export type NewPostRow = Insertable<PostTable>;
export type PostRowUpdate = Updateable<PostTable>;

export interface PostRevisionTable {
  id: Generated<string>;
  post_id: string;
  revision: number;
  slug: string;
  title: string;
  body: string;
  excerpt: string | null;
  tags: Generated<string[]>;
  meta_title: string | null;
  meta_description: string | null;
  canonical_url: string | null;
  keywords: Generated<string[]>;
  cover_media_id: string | null;
  cover_image_url: string | null;
  cover_image_alt: string | null;
  author_type: 'operator' | 'agent';
  author_agent_id: string | null;
  author_name: string | null;
  /** What replaced this revision. */
  change: 'update' | 'restore';
  replaced_at: Generated<Date>;
  replaced_by_key_id: string | null;
}
export type PostRevisionRow = Selectable<PostRevisionTable>;
export type NewPostRevisionRow = Insertable<PostRevisionTable>;
export type PostRevisionRowUpdate = Updateable<PostRevisionTable>;

export type LeadStatusValue = 'new' | 'contacted' | 'qualified' | 'converted' | 'lost' | 'spam';

export interface LeadTable {
  id: Generated<string>;
  email: string;
  name: string | null;
  source: string | null;
  status: Generated<LeadStatusValue>;
  message: string | null;
  notes: string | null;
  tags: Generated<string[]>;
  created_via: Generated<'api' | 'form'>;
  created_by_key_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type LeadRow = Selectable<LeadTable>;
export type NewLeadRow = Insertable<LeadTable>;
export type LeadRowUpdate = Updateable<LeadTable>;

export interface PageViewTable {
  /** bigserial, as a string */
  id: Generated<string>;
  /** The UTC day, as Postgres hands a `date` back (a Date at UTC midnight or 'YYYY-MM-DD'). */
  day: string;
  viewed_at: Generated<Date>;
  path: string;
  post_id: string | null;
  referrer_host: string | null;
  device: 'desktop' | 'mobile' | 'tablet' | 'other';
  /** sha256 of (salt of the day, address, user agent); unlinkable across days. */
  visitor_hash: string;
}
export type PageViewRow = Selectable<PageViewTable>;
export type NewPageViewRow = Insertable<PageViewTable>;

export interface AnalyticsSaltTable {
  day: string;
  /** Random, made on the day's first view and deleted once the day is over. */
  salt: string;
  created_at: Generated<Date>;
}

export interface SiteSettingsTable {
  id: Generated<'site'>;
  value: unknown;
  updated_at: Generated<Date>;
  updated_by_key_id: string | null;
}
export type SiteSettingsRow = Selectable<SiteSettingsTable>;

export interface SiteTables {
  media: MediaTable;
  posts: PostTable;
  post_revisions: PostRevisionTable;
  leads: LeadTable;
  page_views: PageViewTable;
  analytics_salts: AnalyticsSaltTable;
  site_settings: SiteSettingsTable;
}
