import {
  createEmbedder,
  createMemoryServices,
  type MemoryDeps,
  type MemoryServices,
  type QueueDriver,
  systemClock,
} from '@ora/core';
import type { OraDatabase } from '@ora/db';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from './env';

/** Memory and conversations in one process: the services and the deps their functions take. */
export interface MemoryRuntime {
  services: MemoryServices;
  deps: MemoryDeps;
  close(): Promise<void>;
}

export async function createMemoryRuntime(
  config: Config,
  database: OraDatabase,
  queue: QueueDriver,
  log: PinoLogger,
): Promise<MemoryRuntime> {
  const services = await createMemoryServices({
    database,
    settings: config.memory.settings,
    embedder: createEmbedder(config.memory.embeddings),
    log,
  });
  log.debug(
    { embedder: services.embedder.model, search: services.vector ? 'hybrid' : 'fulltext' },
    'memory search ready',
  );
  return {
    services,
    deps: { db: database.db, clock: systemClock, log, queue, memory: services },
    close: () => services.access.stop(),
  };
}
