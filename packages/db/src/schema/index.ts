import type { AgentTables } from './agents';
import type { ChainTables } from './chains';
import type { ConversationTables } from './conversations';
import type { EventTables } from './events';
import type { MemoryTables } from './memory';
import type { QueueTables } from './queue';
import type { SiteTables } from './site';
import type { SyncTables } from './sync';
import type { TaskTables } from './tasks';
import type { WebhookTables } from './webhooks';
import type { WorkflowTables } from './workflows';

export * from './agents';
export * from './chains';
export * from './conversations';
export * from './events';
export * from './memory';
export * from './queue';
export * from './site';
export * from './sync';
export * from './tasks';
export * from './webhooks';
export * from './workflows';

/** Every domain table; the keys tables (api_keys, audit_log, idempotency_keys) are apart. */
export interface DomainTables
  extends AgentTables,
    MemoryTables,
    ConversationTables,
    TaskTables,
    ChainTables,
    WorkflowTables,
    EventTables,
    WebhookTables,
    SyncTables,
    SiteTables,
    QueueTables {}
