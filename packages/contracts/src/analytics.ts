import { z } from 'zod';
import { Id } from './common';

const Day = z.iso.date().meta({ description: 'A UTC day, YYYY-MM-DD' });

export const AnalyticsRange = z.object({
  from: Day.optional().meta({ description: 'First day (UTC); default 29 days before `to`' }),
  to: Day.optional().meta({ description: 'Last day (UTC), included; default today' }),
});

const DayCount = z.object({ date: Day, views: z.number().int(), visitors: z.number().int() });
const ReferrerCount = z.object({ referrer: z.string(), views: z.number().int() });

export const AnalyticsSummary = z.object({
  from: Day,
  to: Day,
  views: z.number().int(),
  visitors: z.number().int().meta({
    description:
      'Sum of daily unique visitors: a visitor hash lives one day, so a return visit on another day counts again',
  }),
  days: z.array(DayCount),
  topPosts: z.array(
    z.object({
      postId: Id,
      slug: z.string().nullable(),
      title: z.string().nullable(),
      views: z.number().int(),
      visitors: z.number().int(),
    }),
  ),
  topPaths: z.array(z.object({ path: z.string(), views: z.number().int() })),
  referrers: z.array(ReferrerCount),
  devices: z.array(z.object({ device: z.string(), views: z.number().int() })),
});
export type AnalyticsSummary = z.infer<typeof AnalyticsSummary>;

export const AnalyticsSummaryInput = AnalyticsRange.extend({
  top: z.number().int().min(1).max(100).default(10),
});
export const AnalyticsPostInput = AnalyticsRange.extend({ id: Id });
export const AnalyticsPost = z.object({
  postId: Id,
  slug: z.string(),
  title: z.string(),
  from: Day,
  to: Day,
  views: z.number().int(),
  visitors: z.number().int(),
  days: z.array(DayCount),
  referrers: z.array(ReferrerCount),
});
export type AnalyticsPost = z.infer<typeof AnalyticsPost>;

/** A page view from the public site (POST /collect, no key). */
export const CollectInput = z.object({
  path: z
    .string()
    .min(1)
    .max(2000)
    .regex(/^\//, 'a path starting with "/"')
    .meta({ description: 'The page path; any query string or fragment is dropped' }),
  referrer: z.string().max(2000).optional().meta({ description: 'Only its host is kept' }),
  slug: z.string().max(200).optional().meta({ description: 'The post viewed, when the path does not say it' }),
});
export type CollectInput = z.infer<typeof CollectInput>;
