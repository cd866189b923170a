import type { Task } from '@ora/contracts';
import { useState } from 'preact/hooks';
import { call } from '../api';
import { ConfirmButton, ErrorBox, useApp, useMutation } from '../lib';

const TERMINAL = ['success', 'error', 'cancelled', 'expired'];
const RETRYABLE = ['error', 'cancelled', 'expired'];

export const awaitsApproval = (t: Pick<Task, 'status' | 'requiresApproval' | 'approvedAt'>) =>
  t.status === 'waiting' && t.requiresApproval && !t.approvedAt;

/** Cancel, retry (optionally on another model) and approve, as the task's status allows. */
export function TaskActions({ task, onDone }: { task: Task; onDone: () => void }) {
  const { notify } = useApp();
  const { busy, error, run } = useMutation();
  const [model, setModel] = useState('');
  const act = async (label: string, work: () => Promise<unknown>) => {
    const ok = await run(work);
    if (ok !== undefined) {
      notify(`${label}: ${task.title}`);
      onDone();
    }
  };
  const modelId = `retry-model-${task.id}`;
  return (
    <fieldset class="actions">
      <legend class="sr-only">Actions for {task.title}</legend>
      {awaitsApproval(task) ? (
        <>
          <button
            type="button"
            disabled={busy}
            onClick={() => act('Approved', () => call('tasks.approve', { id: task.id }))}
          >
            Approve
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() => act('Rejected', () => call('tasks.approve', { id: task.id, approved: false }))}
          >
            Reject
          </button>
        </>
      ) : null}
      {!TERMINAL.includes(task.status) ? (
        <ConfirmButton
          label="Cancel"
          confirmLabel="Confirm cancel"
          disabled={busy}
          onConfirm={() =>
            act('Cancelled', () => call('tasks.cancel', { id: task.id, reason: 'cancelled in the admin UI' }))
          }
        />
      ) : null}
      {RETRYABLE.includes(task.status) ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act('Retried', () =>
              call('tasks.retry', { id: task.id, ...(model.trim() ? { modelOverride: model.trim() } : {}) }),
            );
          }}
        >
          <label for={modelId}>Model for the retry</label>
          <input
            id={modelId}
            value={model}
            placeholder="same model"
            onInput={(e) => setModel((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy}>
            Retry
          </button>
        </form>
      ) : null}
      <ErrorBox error={error} />
    </fieldset>
  );
}

const STATUS_FILL: Record<string, string> = {
  pending: '#eef0f3',
  queued: '#e4ecf7',
  running: '#fff1c2',
  waiting: '#f6e3ff',
  success: '#dcf3e1',
  error: '#fbdada',
  cancelled: '#e8e8e8',
  expired: '#f5e0cc',
};

/**
 * A chain (DAG) as an SVG graph: columns by depth, one box per task, arrows for dependencies.
 * Every box is a link, so the graph can be walked with Tab and each node is read as "title, status".
 */
export function ChainGraph({ tasks, current }: { tasks: Task[]; current?: string }) {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const depth = new Map<string, number>();
  const depthOf = (t: Task, seen = new Set<string>()): number => {
    const known = depth.get(t.id);
    if (known !== undefined) return known;
    if (seen.has(t.id)) return 0;
    seen.add(t.id);
    const parents = t.dependsOn.map((id) => byId.get(id)).filter((p): p is Task => Boolean(p));
    const d = parents.length ? Math.max(...parents.map((p) => depthOf(p, seen))) + 1 : 0;
    depth.set(t.id, d);
    return d;
  };
  const ordered = [...tasks].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const columns: Task[][] = [];
  for (const t of ordered) {
    const d = depthOf(t);
    columns[d] = [...(columns[d] ?? []), t];
  }
  const W = 190;
  const H = 56;
  const GX = 50;
  const GY = 18;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [c, col] of columns.entries()) {
    for (const [r, t] of (col ?? []).entries()) pos.set(t.id, { x: 10 + c * (W + GX), y: 10 + r * (H + GY) });
  }
  const width = 20 + columns.length * (W + GX) - GX;
  const height = 20 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY) - GY;
  return (
    <figure class="graph">
      <figcaption class="sr-only">Chain of {tasks.length} tasks; each step links to its page</figcaption>
      <div class="scroller">
        <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} data-testid="chain-graph">
          <title>Chain of {tasks.length} tasks</title>
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" fill="#555" />
            </marker>
          </defs>
          {tasks.flatMap((t) =>
            t.dependsOn
              .filter((d) => pos.has(d))
              .map((d) => {
                const from = pos.get(d) as { x: number; y: number };
                const to = pos.get(t.id) as { x: number; y: number };
                return (
                  <line
                    key={`${d}-${t.id}`}
                    x1={from.x + W}
                    y1={from.y + H / 2}
                    x2={to.x}
                    y2={to.y + H / 2}
                    stroke="#555"
                    stroke-width="1.5"
                    marker-end="url(#arrow)"
                  />
                );
              }),
          )}
          {ordered.map((t) => {
            const p = pos.get(t.id) as { x: number; y: number };
            return (
              <a key={t.id} href={`#/tasks/${t.id}`} data-status={t.status} data-task-type={t.taskType} class="node">
                <clipPath id={`clip-${t.id}`}>
                  <rect x={p.x} y={p.y} width={W - 8} height={H} />
                </clipPath>
                <rect
                  x={p.x}
                  y={p.y}
                  width={W}
                  height={H}
                  rx="6"
                  fill={STATUS_FILL[t.status] ?? '#fff'}
                  stroke={t.id === current ? '#1d4ed8' : '#666'}
                  stroke-width={t.id === current ? 3 : 1}
                />
                {/* The whole title is the text (clipped to the box, not cut), so the link's name is all of it. */}
                <text x={p.x + 8} y={p.y + 22} font-size="13" fill="#111" clip-path={`url(#clip-${t.id})`}>
                  {`${t.title}:`}
                </text>
                <text x={p.x + 8} y={p.y + 42} font-size="12" fill="#333">
                  {`${t.status} · ${t.agentSlug ?? 'system'}`}
                </text>
              </a>
            );
          })}
        </svg>
      </div>
    </figure>
  );
}
