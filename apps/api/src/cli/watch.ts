import { OraClientError } from '@ora/client';
import { type OraEvent, type Task, type TaskStatus, terminalStatuses } from '@ora/contracts';
import type { CommandContext } from './command';
import { readEventStream } from './event-stream';
import { exitCodes } from './io';

export type WatchTarget = { kind: 'task'; id: string } | { kind: 'chain'; chainId: string } | { kind: 'all' };

export interface WatchOptions {
  /** Tasks already known (e.g. just created), so the first lines can show them at once. */
  initial?: readonly Task[];
  /** Without an event for this long, read the tasks' state directly (a safety net; default 2 s). */
  pollMs?: number;
  /** Give up when the server cannot be reached again for this long (default 30 s). */
  reconnectForMs?: number;
}

interface Tracked {
  id: string;
  title: string;
  taskType: string;
  status: string;
  errorMessage?: string | null;
  statusMessage?: string | null;
  requiresApproval?: boolean;
  approvedAt?: string | null;
  /** From the task read: how long its last attempt ran (events carry their own). */
  durationMs?: number | null;
}

const symbols: Record<string, string> = {
  pending: '·',
  queued: '…',
  running: '▶',
  waiting: '⏸',
  success: '✓',
  error: '✗',
  cancelled: '⊘',
  expired: '⌛',
};

const isTerminal = (status: string) => terminalStatuses.includes(status as TaskStatus);
const clock = () => new Date().toISOString().slice(11, 19);

/**
 * Follows tasks on the live event stream and prints each change as a line with the progress so
 * far, until every followed task has ended (or, for `all`, until Ctrl-C). Events drive it; when
 * none arrive for a while the tasks are read directly too, so nothing is missed across reconnects.
 * Answers 0 when every task succeeded, 1 otherwise, 130 when interrupted.
 */
export async function watchTasks(
  ctx: CommandContext,
  target: WatchTarget,
  options: WatchOptions = {},
): Promise<number> {
  const connection = ctx.connection();
  const client = ctx.client();
  const pollMs = options.pollMs ?? 2000;
  const tracked = new Map<string, Tracked>();
  const started = Date.now();
  const stop = new AbortController();
  const interrupted = ctx.io.signal;
  const onInterrupt = () => stop.abort();
  interrupted?.addEventListener('abort', onInterrupt, { once: true });

  const progress = () => {
    if (target.kind === 'all') return '';
    const done = [...tracked.values()].filter((t) => isTerminal(t.status)).length;
    return `[${done}/${tracked.size}] `;
  };
  const line = (task: Tracked, detail?: string) => {
    if (ctx.json) return;
    const status = `${symbols[task.status] ?? '?'} ${task.status.padEnd(9)}`;
    ctx.out(`${clock()} ${progress()}${status} ${task.title} (${task.taskType})${detail ?? ''}`);
  };
  const detailOf = (task: Tracked) => {
    // The read of the tasks can see the end before its event arrives: it says the same.
    if (task.status === 'success' && task.durationMs != null) return ` in ${(task.durationMs / 1000).toFixed(1)} s`;
    if (task.status === 'error' || task.status === 'expired') return task.errorMessage ? `: ${task.errorMessage}` : '';
    if (task.status === 'waiting') {
      const hint =
        task.requiresApproval && !task.approvedAt
          ? `approve with \`ora tasks approve ${task.id}\``
          : `give it input with \`ora tasks.update --id ${task.id} --input '{...}' --resume\``;
      return `: ${task.statusMessage ?? 'waiting'} (${hint})`;
    }
    return '';
  };

  /** Records a task's state; prints a line when its status changed (or always, when `force`). */
  const update = (next: Tracked, detail?: string, force = false) => {
    const known = tracked.get(next.id);
    tracked.set(next.id, { ...known, ...next });
    if (known?.status === next.status && !force) return;
    line(tracked.get(next.id) as Tracked, detail ?? detailOf(tracked.get(next.id) as Tracked));
  };
  const fromTask = (task: Task): Tracked => ({
    id: task.id,
    title: task.title,
    taskType: task.taskType,
    status: task.status,
    errorMessage: task.errorMessage,
    statusMessage: task.statusMessage,
    requiresApproval: task.requiresApproval,
    approvedAt: task.approvedAt,
    durationMs: task.startedAt && task.completedAt ? Date.parse(task.completedAt) - Date.parse(task.startedAt) : null,
  });

  const allDone = () =>
    target.kind !== 'all' && tracked.size > 0 && [...tracked.values()].every((t) => isTerminal(t.status));
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  finished.catch(() => {});
  const check = () => {
    if (allDone()) finish();
  };

  const wanted = (event: OraEvent) => {
    const payload = event.payload as { taskId?: string; chainId?: string | null };
    if (target.kind === 'task') return payload.taskId === target.id;
    if (target.kind === 'chain') return payload.chainId === target.chainId;
    return true;
  };
  let lastEventAt = Date.now();
  // Until the first read of the tasks, events wait (so the progress counts every task); after
  // it, an event older than the state read is skipped rather than shown as a step back.
  let buffered: OraEvent[] | null = target.kind === 'all' ? null : [];
  const readAt = new Map<string, string>();
  const onEvent = (event: OraEvent) => {
    if (!event.type.startsWith('task.') || !wanted(event)) return;
    lastEventAt = Date.now();
    if (buffered) {
      buffered.push(event);
      return;
    }
    const seen = readAt.get((event.payload as { taskId: string }).taskId);
    const stale = seen !== undefined && Date.parse(event.createdAt) < Date.parse(seen);
    // A failed attempt is worth its line even when the state read already moved past it.
    if (stale && event.type !== 'task.failed') return;
    if (ctx.json) ctx.out(JSON.stringify(event));
    const p = event.payload as {
      taskId: string;
      title: string;
      taskType: string;
      status: string;
      error?: string;
      attempt?: number;
      willRetry?: boolean;
      reason?: string | null;
      durationMs?: number | null;
    };
    const next: Tracked = { id: p.taskId, title: p.title, taskType: p.taskType, status: p.status };
    if (event.type === 'task.failed') {
      next.errorMessage = p.error ?? null;
      const retry = p.willRetry ? ', will retry' : '';
      const detail = `: attempt ${p.attempt ?? '?'} failed: ${p.error ?? 'unknown error'}${retry}`;
      if (stale) line({ ...next, status: 'error' }, detail);
      else update(next, detail, true);
    } else if (event.type === 'task.started') {
      update(next, p.attempt && p.attempt > 1 ? ` (attempt ${p.attempt})` : undefined);
    } else if (event.type === 'task.completed') {
      update(next, p.durationMs != null ? ` in ${(p.durationMs / 1000).toFixed(1)} s` : undefined);
    } else if (event.type === 'task.cancelled') {
      update(next, p.reason ? `: ${p.reason}` : undefined);
    } else if (event.type === 'task.waiting') {
      next.statusMessage = p.reason ?? null;
      update(next);
    } else update(next);
    check();
  };

  const snapshot = async () => {
    if (target.kind === 'all') return;
    const tasks: Task[] =
      target.kind === 'task'
        ? [await client.call('tasks.get', { id: target.id })]
        : (await client.call('tasks.list', { chainId: target.chainId, limit: 200 })).items;
    const oldestChangeFirst = [...tasks].sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
    for (const task of oldestChangeFirst) {
      readAt.set(task.id, task.updatedAt);
      update(fromTask(task));
    }
    if (buffered) {
      const waiting = buffered;
      buffered = null;
      for (const event of waiting) onEvent(event);
    }
    check();
  };

  // All known first, so the first lines already count every step.
  for (const task of options.initial ?? []) tracked.set(task.id, { ...fromTask(task), status: '' });
  for (const task of options.initial ?? []) update(fromTask(task));
  const query: Record<string, string> = { types: 'task.*' };
  if (target.kind === 'task') query.taskId = target.id;

  const aborted = new Promise<void>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  /** Waits, cut short by the end of the watch (no timer is left to hold the process open). */
  const pause = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, aborted, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
      clearTimeout(timer),
    );
  };

  // One task: start the stream after its last event so far, so nothing falls between.
  let lastSeq: string | undefined;
  if (target.kind === 'task') {
    let cursor: string | undefined;
    do {
      const page = await client.call('events.list', { taskId: target.id, limit: 500, ...(cursor ? { cursor } : {}) });
      lastSeq = page.items.at(-1)?.seq ?? lastSeq;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  let opened!: () => void;
  const firstOpen = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const follow = async () => {
    let lostSince: number | null = null;
    while (!stop.signal.aborted) {
      try {
        for await (const event of readEventStream(connection, ctx.io, {
          query,
          lastEventId: lastSeq,
          signal: stop.signal,
          onOpen: () => {
            if (lostSince !== null) ctx.note('Reconnected to the event stream.');
            lostSince = null;
            opened();
          },
        })) {
          lastSeq = event.seq;
          onEvent(event);
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof OraClientError && error.httpStatus < 500 && error.httpStatus !== 429) {
          fail(error);
          return;
        }
        if (lostSince === null) {
          lostSince = Date.now();
          ctx.note(`Lost the event stream (${(error as Error).message}); reconnecting...`);
        } else if (Date.now() - lostSince > (options.reconnectForMs ?? 30_000)) {
          fail(error);
          return;
        }
      }
      if (stop.signal.aborted) return;
      await pause(1000).catch(() => {});
    }
  };
  const following = follow();

  try {
    await Promise.race([firstOpen, finished, aborted]);
    if (!stop.signal.aborted) {
      await snapshot();
      if (target.kind === 'all') ctx.note('Following task events; Ctrl-C stops.');
      else if (!ctx.json && !allDone()) {
        ctx.note(
          `Following ${target.kind === 'task' ? `task ${target.id}` : `chain ${target.chainId}`} live; Ctrl-C stops watching (the tasks go on).`,
        );
      }
    }
    while (!allDone() && !stop.signal.aborted) {
      await pause(pollMs);
      if (!allDone() && !stop.signal.aborted && Date.now() - lastEventAt >= pollMs) await snapshot();
    }
  } finally {
    interrupted?.removeEventListener('abort', onInterrupt);
    stop.abort();
    await following;
  }

  if (!allDone()) {
    if (target.kind === 'all') return exitCodes.ok;
    ctx.note(
      `Stopped watching; the tasks go on. Follow them again with \`ora tasks watch ${target.kind === 'task' ? target.id : `--chain ${target.chainId}`}\`.`,
    );
    return exitCodes.interrupted;
  }
  const tasks = [...tracked.values()];
  const failed = tasks.filter((t) => t.status !== 'success');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (ctx.json) {
    ctx.out(JSON.stringify({ type: 'watch.done', ok: failed.length === 0, tasks }));
  } else if (failed.length === 0) {
    ctx.note(`Done after ${seconds} s: ${tasks.length} task${tasks.length === 1 ? '' : 's'} succeeded.`);
  } else {
    ctx.note(
      `Done after ${seconds} s: ${failed.length} of ${tasks.length} did not succeed (${failed.map((t) => `${t.title}: ${t.status}`).join('; ')}). \`ora tasks get ID\` shows why.`,
    );
  }
  return failed.length === 0 ? exitCodes.ok : exitCodes.apiError;
}
