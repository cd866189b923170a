/** The operator's site: posts (with revisions and scheduling), the public read side, media, leads, analytics, settings. */

export type { AnalyticsDeps, Visitor } from './analytics.service';
export {
  analyticsForPost,
  analyticsSummary,
  DailySalts,
  deviceClass,
  purgeExpiredSalts,
  recordPageView,
  utcDay,
} from './analytics.service';
export type { LeadDeps } from './leads.service';
export { createLead, deleteLead, getLead, listLeads, submitPublicLead, updateLead } from './leads.service';
export type { MediaDeps, MediaLimits } from './media.service';
export { decodeBase64, deleteMedia, getMedia, listMedia, readMedia, uploadMedia } from './media.service';
export { defaultMediaTypes, extensionFor, sniffContentType } from './media-sniff';
export type { MediaStore } from './media-store';
export { createTemporaryMediaStore, LocalMediaStore } from './media-store';
export type { CachedPage } from './page-cache';
export { etagMatches, PublicPageCache, pageOf } from './page-cache';
export type { PostDeps } from './posts.service';
export {
  createPost,
  deletePost,
  getPost,
  listPostRevisions,
  listPosts,
  publishDuePosts,
  publishPost,
  restorePostRevision,
  schedulePost,
  unpublishPost,
  updatePost,
} from './posts.service';
export {
  buildRssFeed,
  buildSitemap,
  getPublishedPost,
  listPublishedPosts,
  renderPostIndexPage,
  renderPostPage,
  siteBase,
} from './public-site';
export { escapeHtml, escapeXml, renderMarkdown } from './render';
export type { SettingsDeps, StoredSettings } from './settings.service';
export { getSettings, postUrl, setSettings } from './settings.service';
export { firstFreeSlug, slugify } from './slug';
