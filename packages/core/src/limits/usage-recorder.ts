import { sql } from 'kysely';
import type { Db, Logger } from '../shared/deps';

interface Pending {
  count: number;
  lastUsedAt: Date;
  lastIp: string | null;
}

/**
 * Key usage (count, last used at and from) gathered in memory and written in one statement every
 * few seconds, so no request waits on a database write. Additive, so replicas can all flush.
 */
export class UsageRecorder {
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.flush(), this.intervalMs);
    this.#timer.unref();
  }

  record(keyId: string, ip: string | null, at: Date): void {
    const current = this.#pending.get(keyId);
    if (current) {
      current.count += 1;
      current.lastUsedAt = at;
      current.lastIp = ip;
    } else {
      this.#pending.set(keyId, { count: 1, lastUsedAt: at, lastIp: ip });
    }
  }

  /** Writes what has gathered; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const rows = [...batch].map(
      ([id, p]) => sql`(${id}::uuid, ${p.count}::bigint, ${p.lastUsedAt}::timestamptz, ${p.lastIp}::text)`,
    );
    try {
      await sql`
        update api_keys as k set
          total_requests = k.total_requests + u.count,
          last_used_at = greatest(k.last_used_at, u.last_used_at),
          last_used_ip = case when k.last_used_at is null or u.last_used_at >= k.last_used_at
                              then u.last_ip else k.last_used_ip end
        from (values ${sql.join(rows)}) as u(id, count, last_used_at, last_ip)
        where k.id = u.id
      `.execute(this.db);
    } catch (error) {
      // Put the counts back so the next flush carries them.
      for (const [id, p] of batch) {
        const now = this.#pending.get(id);
        if (now) {
          now.count += p.count;
        } else {
          this.#pending.set(id, p);
        }
      }
      this.log.warn({ err: error }, 'could not write key usage; will retry');
    }
  }
}
