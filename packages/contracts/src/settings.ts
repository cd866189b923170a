import { z } from 'zod';
import { Id, Timestamp } from './common';

const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

const TimeZone = z
  .string()
  .max(100)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone, e.g. "Europe/Berlin"');

export const PostingCadence = z.object({
  postsPerWeek: z.number().int().min(0).max(100),
  days: z.array(Weekday).max(7).default([]),
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour')
    .nullable()
    .default(null),
  timezone: TimeZone.default('UTC'),
});

/** Site-level settings the public pages, feeds and agents (the Writer's voice) read. */
export const SiteSettings = z.object({
  siteName: z.string().trim().min(1).max(200),
  siteUrl: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .nullable()
    .meta({ description: 'Public address; links in the feed and sitemap start with it (else the request’s host)' }),
  description: z.string().max(1000),
  language: z
    .string()
    .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'a language tag, e.g. "en" or "en-GB"')
    .max(35),
  defaultAuthor: z.string().trim().max(200).nullable(),
  brandVoice: z.string().max(10_000).nullable().meta({ description: 'How the Writer should sound' }),
  postingCadence: PostingCadence.nullable(),
});
export type SiteSettings = z.infer<typeof SiteSettings>;

export const defaultSiteSettings: SiteSettings = {
  siteName: 'My site',
  siteUrl: null,
  description: '',
  language: 'en',
  defaultAuthor: null,
  brandVoice: null,
  postingCadence: null,
};

export const SettingsOutput = z.object({
  settings: SiteSettings,
  updatedAt: Timestamp.nullable(),
  updatedByKeyId: Id.nullable(),
});
export const SettingsGetInput = z.object({}).strict();
export const SettingsSetInput = SiteSettings.partial()
  .strict()
  .meta({ description: 'Only the settings given change; null clears a nullable one' });
