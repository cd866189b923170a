import { randomUUID } from 'node:crypto';
import {
  type Actor,
  createEmbedder,
  createMemoryServices,
  DEFAULT_MEMORY_SETTINGS,
  DEFAULT_SYNC_SETTINGS,
  type MemoryServices,
  pullChanges,
  pushMutations,
  type SyncDeps,
  systemClock,
} from '@ora/core';
import { createDatabase, migrateToLatest, type OraDatabase } from '@ora/db';
import { createTestPostgres, type TestPostgres } from '@ora/testkit';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes } from './harness';
import { type ModelServer, parseSyncInput, runScenario, type Scenario, scenarioArbitrary } from './sync-model';

// The sync model (sync-model.ts) driven in-process against one database per mode: Postgres (as
// CI has it) and PGlite. Each run gets its own agent and client ids, so runs share the database
// without seeing each other (the key is bound to the run's agent). A "restart" drops the system
// objects (the database connection, the memory services) and makes new ones over the same data.

const modes = await availableModes();
// 300 runs on the first database of the list (Postgres where it answers, as in CI; else PGlite)
// and 40 more on PGlite beside it, to keep the file well within two minutes.
// ORA_SYNC_MODEL_RUNS asks for another number on the first one (more, or fewer while developing).
const runs = Number(process.env.ORA_SYNC_MODEL_RUNS ?? 300);
const RUNS: Record<(typeof modes)[number], number> = modes.includes('distributed')
  ? { distributed: runs, embedded: 40 }
  : { distributed: 0, embedded: runs };

/**
 * Scenarios the model once failed on, run first every time. 1: a client deletes a conversation it
 * had pulled (dropping its messages) and the delete loses its conflict: the conversation's
 * messages must all travel again. 2: an append to a deleted conversation loses (the conversation
 * stays deleted), a later one revives it: the first one's messages must be in it too.
 */
const regressions: Scenario[] = [
  {
    clients: 4,
    strategy: 'server_wins',
    ops: [
      { kind: 'title', client: 4, conv: 1, title: 2, dt: 1 },
      { kind: 'append', client: 2, conv: 1, dt: 1 },
      { kind: 'sync', client: 2, fault: 'ok' },
      { kind: 'sync', client: 4, fault: 'delay' },
      { kind: 'restart' },
      { kind: 'sync', client: 3, fault: 'delay' },
      { kind: 'deleteConv', client: 3, conv: 1, dt: 0 },
      { kind: 'append', client: 3, conv: 1, dt: 1 },
    ],
  },
  {
    clients: 3,
    strategy: undefined,
    ops: [
      { kind: 'append', client: 0, conv: 1, dt: 0 },
      { kind: 'append', client: 1, conv: 1, dt: 0 },
      { kind: 'deleteConv', client: 1, conv: 1, dt: 0 },
      { kind: 'sync', client: 0, fault: 'drop' },
      { kind: 'edit', client: 0, key: 0, field: 'a', value: 0, scalar: false, dt: 1 },
      { kind: 'sync', client: 1, fault: 'ok' },
      { kind: 'append', client: 0, conv: 1, dt: 0 },
    ],
  },
];

describe.each(modes)('sync model (%s)', (mode) => {
  let pg: TestPostgres | null = null;
  let database: OraDatabase;
  let memory: MemoryServices;
  const log = pino({ level: 'silent' });

  async function open(): Promise<void> {
    if (mode === 'distributed') {
      database = await createDatabase({ kind: 'postgres', url: (pg as TestPostgres).url, poolSize: 4 });
    }
    memory = await createMemoryServices({
      database,
      settings: DEFAULT_MEMORY_SETTINGS,
      embedder: createEmbedder({ kind: 'local' }),
      log,
    });
  }

  beforeAll(async () => {
    if (mode === 'distributed') {
      pg = await createTestPostgres('sync_model');
      database = await createDatabase({ kind: 'postgres', url: pg.url, poolSize: 4 });
      await migrateToLatest(database.db);
      await database.close();
    } else {
      database = await createDatabase({ kind: 'pglite' });
      await migrateToLatest(database.db);
    }
    await open();
  });
  afterAll(async () => {
    await memory?.access.stop();
    await database?.close();
    await pg?.drop();
  });

  const deps = (): SyncDeps => ({
    db: database.db,
    clock: systemClock,
    log,
    queue: null,
    memory,
    // Small batches, so a push of a few mutations spans several transactions.
    sync: { ...DEFAULT_SYNC_SETTINGS, pushBatchSize: 4 },
  });

  it(`converges with no lost write over ${RUNS[mode]} runs of 3 to 5 clients with faults and restarts`, async () => {
    let mutations = 0;
    let conflicts = 0;
    let faults = 0;
    const server = (actor: Actor): ModelServer => ({
      async call(action, data) {
        const input = parseSyncInput(action, data);
        return (
          action === 'sync.push'
            ? await pushMutations(deps(), actor, input as never)
            : await pullChanges(deps(), actor, input as never)
        ) as never;
      },
      async restart() {
        await memory.access.stop();
        if (mode === 'distributed') await database.close();
        await open();
      },
      db: () => database.db,
    });
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const agent = await database.db
          .insertInto('agents')
          .values({ slug: `model-${randomUUID()}`, name: 'model', model: null })
          .returning('id')
          .executeTakeFirstOrThrow();
        const actor: Actor = { keyId: null, scopes: ['*'], agentId: agent.id, ip: null, requestId: null };
        const report = await runScenario(server(actor), agent.id, scenario);
        mutations += report.mutations;
        conflicts += report.conflicts;
        faults += report.faults;
      }),
      { numRuns: RUNS[mode], examples: regressions.map((r) => [r] as [Scenario]) },
    );
    // The runs did what they are for: many mutations, conflicts and faults.
    expect(mutations).toBeGreaterThan(RUNS[mode] * 3);
    expect(conflicts).toBeGreaterThan(RUNS[mode] / 10);
    expect(faults).toBeGreaterThan(RUNS[mode] / 5);
  }, 240_000);
});
