import { sql } from 'kysely';
import type { Db, Logger } from '../shared/deps';

/**
 * Search answers record which memories they returned here, and a timer writes the counts in one
 * statement a second later, so searching never waits on a write (nor takes row locks a writer
 * would wait on). Counts are best effort: a crash loses at most the last second's. Access stats
 * are not synced data: they bump neither the version nor the sync sequence.
 */
export class MemoryAccessRecorder {
  readonly #pending = new Map<string, { count: number; at: Date }>();
  readonly #db: Db;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;

  constructor(db: Db, log: Logger, intervalMs = 1_000) {
    this.#db = db;
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  record(ids: Iterable<string>, at: Date): void {
    for (const id of ids) {
      const entry = this.#pending.get(id);
      if (entry) {
        entry.count += 1;
        if (at > entry.at) entry.at = at;
      } else {
        this.#pending.set(id, { count: 1, at });
      }
    }
    if (this.#pending.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        void this.flush();
      }, this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Writes what is pending now (tests and shutdown call it; the timer does otherwise). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending];
    this.#pending.clear();
    this.#flushing = this.#write(batch).finally(() => {
      this.#flushing = null;
    });
    await this.#flushing;
  }

  async #write(batch: Array<[string, { count: number; at: Date }]>): Promise<void> {
    try {
      for (let i = 0; i < batch.length; i += 500) {
        const rows = batch
          .slice(i, i + 500)
          .map(([id, { count, at }]) => sql`(${id}::uuid, ${count}::int, ${at.toISOString()}::timestamptz)`);
        await sql`
          update agent_memory m
          set access_count = m.access_count + v.n,
              last_accessed_at = greatest(m.last_accessed_at, v.at)
          from (values ${sql.join(rows)}) as v (id, n, at)
          where m.id = v.id
        `.execute(this.#db);
      }
    } catch (error) {
      this.#log.warn({ err: error, memories: batch.length }, 'could not record memory access counts');
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
