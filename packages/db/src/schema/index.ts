import type { AgentTables } from './agents';
import type { ConversationTables } from './conversations';
import type { EventTables } from './events';
import type { MemoryTables } from './memory';
import type { SyncTables } from './sync';
import type { TaskTables } from './tasks';
import type { WebhookTables } from './webhooks';
import type { WorkflowTables } from './workflows';

export * from './agents';
export * from './conversations';
export * from './events';
export * from './memory';
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
    WorkflowTables,
    EventTables,
    WebhookTables,
    SyncTables {}
