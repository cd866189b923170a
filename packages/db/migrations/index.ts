import type { Migration } from 'kysely';
import * as m00 from './2026_11_25_120000_create_api_keys';
import * as m01 from './2026_11_25_120100_create_agents';
import * as m02 from './2026_11_25_120200_create_sync_version_seq';
import * as m03 from './2026_11_25_120300_create_agent_memory';
import * as m04 from './2026_11_25_120400_create_agent_conversations';
import * as m05 from './2026_11_25_120500_create_agent_tasks';
import * as m06 from './2026_11_25_120600_create_workflows_and_schedules';
import * as m07 from './2026_11_25_120700_create_events';
import * as m08 from './2026_11_25_120800_create_webhooks';
import * as m09 from './2026_11_25_120900_create_sync';

/**
 * Every migration, in order. Listed statically (not read from the folder at run time) so the same
 * code runs under tsx, vitest and a bundler; a test checks this list against the folder.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_25_120000_create_api_keys': m00,
  '2026_11_25_120100_create_agents': m01,
  '2026_11_25_120200_create_sync_version_seq': m02,
  '2026_11_25_120300_create_agent_memory': m03,
  '2026_11_25_120400_create_agent_conversations': m04,
  '2026_11_25_120500_create_agent_tasks': m05,
  '2026_11_25_120600_create_workflows_and_schedules': m06,
  '2026_11_25_120700_create_events': m07,
  '2026_11_25_120800_create_webhooks': m08,
  '2026_11_25_120900_create_sync': m09,
};
