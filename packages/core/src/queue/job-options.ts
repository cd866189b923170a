import type { Logger } from '../shared/deps';
import { NonRetryableJobError } from './queue-driver';

/** What the drivers log: connection trouble, lost leases, recovered jobs. */
export type QueueLogger = Pick<Logger, 'warn' | 'error'>;

/**
 * Priorities both drivers accept, higher first. BullMQ takes 1..2^21-1, lower first, and runs jobs
 * without a priority before all prioritized ones; ours map to 2^20 - priority, so every job is
 * prioritized and 0 sits in the middle. Values outside are clamped.
 */
export const MAX_PRIORITY = 2 ** 20 - 1;
export const MIN_PRIORITY = -(2 ** 20 - 1);

export function normalizePriority(priority: number | undefined): number {
  const p = Math.trunc(priority ?? 0);
  if (!Number.isFinite(p)) return 0;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, p));
}

/** Base of the exponential backoff when a job has several attempts and names no `backoffMs`. */
export const DEFAULT_BACKOFF_MS = 1000;

/** Retry delays are drawn between (1 - jitter) and 1 times the exponential delay, as BullMQ does. */
export const BACKOFF_JITTER = 0.2;

/** Default wait for in-flight jobs when a driver closes its consumers itself. */
export const DEFAULT_CLOSE_DEADLINE_MS = 10_000;

/** Completed and failed jobs kept for inspection and counts; older ones are trimmed. */
export const DEFAULT_KEEP_COMPLETED = 1000;
export const DEFAULT_KEEP_FAILED = 10_000;

/**
 * Times a job may be found abandoned by a dead consumer (a stall, a lease that ran out) and still
 * come back; past it the job fails, so a job that kills its process cannot loop forever.
 * Same default as BullMQ's `maxStalledCount`.
 */
export const DEFAULT_MAX_STALLS = 1;

/** The delay before try `attemptsMade + 1`, after `attemptsMade` failed tries: base * 2^(n-1), with jitter. */
export function backoffDelayMs(baseMs: number, attemptsMade: number, random: () => number = Math.random): number {
  const max = Math.round(baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.floor(max * (1 - BACKOFF_JITTER * random()));
}

export function isNonRetryable(error: unknown): boolean {
  return error instanceof NonRetryableJobError || (error instanceof Error && error.name === 'NonRetryableJobError');
}

/** BullMQ refuses ':' in queue names; both drivers refuse it so a name works on either. */
export function assertQueueName(queue: string): void {
  if (!queue || queue.includes(':'))
    throw new Error(`invalid queue name ${JSON.stringify(queue)}: must be non-empty, without ':'`);
}

/** Runs `promise` for at most `ms`; true when it settled in time. */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
