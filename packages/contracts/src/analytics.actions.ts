import { action } from './action';
import { AnalyticsPost, AnalyticsPostInput, AnalyticsSummary, AnalyticsSummaryInput } from './analytics';

/** The `analytics.*` actions. */
export const analyticsActions = {
  'analytics.summary': action({
    summary: 'Views, visitors, top posts, paths, referrers and devices per day over a range (UTC days)',
    scope: 'analytics:read',
    mutates: false,
    input: AnalyticsSummaryInput,
    output: AnalyticsSummary,
  }),
  'analytics.post': action({
    summary: "One post's views, visitors and referrers per day over a range",
    scope: 'analytics:read',
    mutates: false,
    input: AnalyticsPostInput,
    output: AnalyticsPost,
  }),
};
