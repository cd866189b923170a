import path from 'node:path';
import {
  type Clock,
  createTemporaryMediaStore,
  DailySalts,
  LocalMediaStore,
  type Logger,
  type MediaLimits,
  type MediaStore,
  PublicPageCache,
  publishDuePosts,
  purgeExpiredSalts,
  systemClock,
} from '@ora/core';
import type { OraDatabase } from '@ora/db';
import type { Config } from './env';

/** What the site's actions and public routes share in one process. */
export interface SiteRuntime {
  clock: Clock;
  media: MediaStore;
  mediaLimits: MediaLimits;
  /** Rendered public pages; cleared by every site change this process makes. */
  pages: PublicPageCache;
  salts: DailySalts;
  /** Runs the maintenance job once now (tests and the timer use it). */
  runMaintenance(): Promise<void>;
  close(): Promise<void>;
}

async function openMediaStore(config: Config): Promise<MediaStore> {
  if (config.site.mediaDir) return new LocalMediaStore(config.site.mediaDir);
  if (config.dataDir === 'memory://') return createTemporaryMediaStore();
  return new LocalMediaStore(path.join(config.dataDir, 'media'));
}

/**
 * Opens the media store and starts the site's maintenance timer: due scheduled posts are published
 * and expired analytics salts deleted every ORA_SITE_PUBLISH_INTERVAL_MS. (The task queue's
 * maintenance jobs are to take this over; publishDuePosts is safe to run from many processes.)
 */
export async function createSiteRuntime(config: Config, database: OraDatabase, log: Logger): Promise<SiteRuntime> {
  const media = await openMediaStore(config);
  const pages = new PublicPageCache(config.site.cacheTtlMs);
  const clock = systemClock;
  const deps = { db: database.db, clock, log };

  let running: Promise<void> | null = null;
  const runMaintenance = (): Promise<void> => {
    running ??= (async () => {
      try {
        const published = await publishDuePosts(deps);
        if (published.length > 0) pages.clear();
        await purgeExpiredSalts(deps);
      } catch (err) {
        log.warn({ err }, 'site maintenance failed; will try again');
      } finally {
        running = null;
      }
    })();
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  if (config.site.publishIntervalMs > 0) {
    timer = setInterval(() => void runMaintenance(), config.site.publishIntervalMs);
    timer.unref();
  }

  return {
    clock,
    media,
    mediaLimits: { maxBytes: config.site.mediaMaxBytes, allowedTypes: config.site.mediaAllowedTypes },
    pages,
    salts: new DailySalts(),
    runMaintenance,
    async close() {
      if (timer) clearInterval(timer);
      await running;
      await media.close();
    },
  };
}

/** The body limit of `POST /api/ora/media.upload`: the largest file as base64, plus room for the JSON around it. */
export function mediaUploadBodyLimit(config: Config): number {
  return Math.max(config.bodyLimitBytes, Math.ceil(config.site.mediaMaxBytes / 3) * 4 + 64 * 1024);
}
