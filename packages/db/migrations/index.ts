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
import * as site00 from './2026_11_25_130000_create_media';
import * as site01 from './2026_11_25_130100_create_posts';
import * as site02 from './2026_11_25_130200_create_leads';
import * as site03 from './2026_11_25_130300_create_page_views';
import * as site04 from './2026_11_25_130400_create_site_settings';
import * as queue00 from './2026_11_25_140000_create_queue_jobs';
import * as tasks01 from './2026_11_25_150000_create_task_chains';
import * as memory01 from './2026_11_25_160000_memory_search';
import * as events01 from './2026_11_25_170000_event_positions_and_webhook_leases';
import * as agents01 from './2026_11_25_180000_agent_runtime';
import * as sync01 from './2026_11_25_190000_sync_engine';
import * as tasks02 from './2026_12_04_210000_drop_redundant_task_indexes';
import * as webhooks01 from './2026_12_04_230000_webhook_delivery_body_text';
import * as tasks03 from './2026_12_04_233000_task_has_dependents';
import * as tasks04 from './2026_12_04_233100_partial_task_indexes';
import * as events02 from './2026_12_04_235000_drop_unread_event_and_outbox_indexes';
import * as tasks05 from './2026_12_04_235100_active_tasks_index';

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
  '2026_11_25_130000_create_media': site00,
  '2026_11_25_130100_create_posts': site01,
  '2026_11_25_130200_create_leads': site02,
  '2026_11_25_130300_create_page_views': site03,
  '2026_11_25_130400_create_site_settings': site04,
  '2026_11_25_140000_create_queue_jobs': queue00,
  '2026_11_25_150000_create_task_chains': tasks01,
  '2026_11_25_160000_memory_search': memory01,
  '2026_11_25_170000_event_positions_and_webhook_leases': events01,
  '2026_11_25_180000_agent_runtime': agents01,
  '2026_11_25_190000_sync_engine': sync01,
  '2026_12_04_210000_drop_redundant_task_indexes': tasks02,
  '2026_12_04_230000_webhook_delivery_body_text': webhooks01,
  '2026_12_04_233000_task_has_dependents': tasks03,
  '2026_12_04_233100_partial_task_indexes': tasks04,
  '2026_12_04_235000_drop_unread_event_and_outbox_indexes': events02,
  '2026_12_04_235100_active_tasks_index': tasks05,
};
