import type { VectorType } from '@ora/db';
import type { Embedder } from '@ora/retrieval';
import type { QueueDriver } from '../queue/queue-driver';
import type { Clock, Db, Logger } from '../shared/deps';
import type { MemoryAccessRecorder } from './access-recorder';
import type { MemorySettings } from './memory.settings';

/** What memory needs besides the database, made once per process (`createMemoryServices`). */
export interface MemoryServices {
  settings: MemorySettings;
  embedder: Embedder;
  /** pgvector's type where it is installed (search is hybrid), else null (full-text only). */
  vector: VectorType | null;
  /** Access counts from searches, written in the background. */
  access: MemoryAccessRecorder;
  /** This process's maintenance timing. */
  maintenance: { nextLimitCheckAt: number };
  /** Embedded rows, counted at most once a minute: vector search widens ef_search as they grow. */
  index: { vectors: number; countedAt: number };
}

export interface MemoryDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** Where embedding jobs go after a write commits; null: the maintenance sweep finds the rows. */
  queue: QueueDriver | null;
  memory: MemoryServices;
}

/** The run or task a write belongs to (the agent runtime passes its own), for history and revert. */
export interface WriteOrigin {
  runId?: string | null | undefined;
  taskId?: string | null | undefined;
}
