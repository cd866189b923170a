import type { ActionOutput, AgentRun, OraEvent } from '@ora/contracts';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Json, num, PageTitle, Scroller, Select, Status, usd, useAction, when } from '../lib';
import { ChainGraph, TaskActions } from './task-parts';

type Detail = ActionOutput<'tasks.get'>;
type Activity = ActionOutput<'tasks.activity'>;

interface Entry {
  at: string;
  kind: string;
  key: string;
  body: ComponentChildren;
}

export function TaskDetailView({ id }: { id: string }) {
  const [chainId, setChainId] = useState<string | null>(null);
  const concerns = (e: OraEvent) =>
    e.taskId === id || (chainId !== null && (e.payload as { chainId?: string } | null)?.chainId === chainId);
  const task = useAction('tasks.get', { id }, [id], concerns);
  // Webhook deliveries follow the task's events and emit none of their own.
  const activity = useAction('tasks.activity', { id }, [id], concerns, {
    followUpMs: [1000, 3000, 8000],
    pollWhile: (a) => (a.deliveries ?? []).some((d) => d.status !== 'success' && d.status !== 'dead'),
  });
  useEffect(() => {
    if (task.data) setChainId(task.data.chainId);
  }, [task.data?.chainId]);
  const chain = useAction('tasks.list', chainId ? { chainId, limit: 200 } : null, [chainId], concerns);
  const t = task.data;
  return (
    <section>
      <p>
        <a href="#/tasks">← All tasks</a>
      </p>
      <PageTitle>{t ? t.title : 'Task'}</PageTitle>
      <ErrorBox error={task.error} />
      {t ? (
        <>
          <dl class="facts" data-testid="task-facts">
            <dt>Status</dt>
            <dd>
              <Status status={t.status} /> {t.statusMessage ?? ''} {t.errorMessage ? `— ${t.errorMessage}` : ''}
            </dd>
            <dt>Agent</dt>
            <dd>{t.agentSlug ? <a href={`#/agents/${t.agentSlug}`}>{t.agentSlug}</a> : 'system'}</dd>
            <dt>Type</dt>
            <dd>
              <code>{t.taskType}</code>
              {t.workflowName ? ` · workflow ${t.workflowName} v${t.workflowVersion}` : ''}
            </dd>
            <dt>Attempts</dt>
            <dd>
              {t.attemptCount} of {t.maxAttempts}
            </dd>
            <dt>Tokens and cost</dt>
            <dd>
              {num(t.tokensUsed)} tokens · {usd(t.estimatedCost)}
            </dd>
            <dt>Model override</dt>
            <dd>{t.modelOverride ?? '—'}</dd>
            <dt>Created by key</dt>
            <dd data-testid="created-by">
              {activity.data?.createdByKey
                ? `${activity.data.createdByKey.name} (${activity.data.createdByKey.prefix}…)`
                : t.createdByKeyId
                  ? t.createdByKeyId
                  : 'the server'}
            </dd>
            <dt>Created</dt>
            <dd>{when(t.createdAt)}</dd>
          </dl>
          <TaskActions task={t} onDone={() => void task.reload()} />
          <h2>Chain</h2>
          <ErrorBox error={chain.error} />
          {chain.data ? <ChainGraph tasks={chain.data.items} current={t.id} /> : null}
          <h2>Input and output</h2>
          <div class="two">
            <div>
              <h3>Input</h3>
              <Json value={t.input} label="Task input" />
            </div>
            <div>
              <h3>Output</h3>
              <Json value={t.output} label="Task output" />
            </div>
          </div>
          <h2>Timeline</h2>
          <ErrorBox error={activity.error} />
          <Timeline task={t} activity={activity.data} />
          <h2>Compare runs</h2>
          <CompareRuns runs={t.runs} />
        </>
      ) : null}
    </section>
  );
}

function Timeline({ task, activity }: { task: Detail; activity: Activity | null }) {
  const entries: Entry[] = [
    ...task.events.map((e) => ({
      at: e.createdAt,
      kind: 'status',
      key: `e${e.id}`,
      body: (
        <>
          Status {e.fromStatus ? <Status status={e.fromStatus} /> : 'new'} → <Status status={e.toStatus} />
          {e.attempt ? ` (attempt ${e.attempt})` : ''}
          {e.message ? ` — ${e.message}` : ''}
        </>
      ),
    })),
    ...task.runs.map((r, i) => ({
      at: r.startedAt,
      kind: 'run',
      key: `r${r.id}`,
      body: <RunDetails run={r} label={`Run ${i + 1}`} />,
    })),
    ...(activity?.memoryWrites ?? []).map((m) => ({
      at: m.createdAt,
      kind: 'memory',
      key: `m${m.memoryId}-${m.version}`,
      body: (
        <>
          Memory {m.change}: <code>{m.type}</code> <strong>{m.key}</strong> (version {m.version})
        </>
      ),
    })),
    ...(activity?.deliveries ?? []).map((d) => ({
      at: d.createdAt,
      kind: 'webhook',
      key: `d${d.id}`,
      body: (
        <>
          Webhook <a href={`#/webhooks/${d.webhookId}`}>{d.webhookName}</a>: <code>{d.eventType}</code>{' '}
          <Status status={d.status} /> after {d.attemptCount} attempt{d.attemptCount === 1 ? '' : 's'}
          {d.lastStatusCode ? ` (HTTP ${d.lastStatusCode})` : ''}
        </>
      ),
    })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return (
    <ol class="timeline" data-testid="timeline">
      {entries.map((e) => (
        <li key={e.key} class={`tl-${e.kind}`} data-kind={e.kind}>
          <time dateTime={e.at}>{when(e.at)}</time>
          <div>{e.body}</div>
        </li>
      ))}
    </ol>
  );
}

function RunDetails({ run, label }: { run: AgentRun; label: string }) {
  return (
    <details>
      <summary>
        {label}: <Status status={run.status} /> on <code>{run.model ?? run.requestedModel ?? 'no model'}</code> ·{' '}
        {num(run.totalTokens)} tokens · {usd(run.cost)} · {run.durationMs ?? '—'} ms
      </summary>
      <RunBody run={run} />
    </details>
  );
}

function RunBody({ run }: { run: AgentRun }) {
  return (
    <div class="run">
      <p>
        Stop reason: {run.stopReason ?? '—'} · {run.steps} steps · prompt {num(run.promptTokens)} / completion{' '}
        {num(run.completionTokens)} tokens
        {run.errorMessage ? ` · error: ${run.errorMessage}` : ''}
      </p>
      <h4>Transcript</h4>
      <ol class="transcript">
        {run.transcript.map((m, i) => (
          <li key={`${m.at}-${i}`} class={`msg msg-${m.role}`}>
            <strong>{m.role}</strong>
            {m.model ? <span class="muted"> ({m.model})</span> : null}
            {m.content ? <pre class="text">{m.content}</pre> : null}
            {m.toolCalls?.map((c) => (
              <p key={c.id}>
                calls <code>{c.name}</code> <code class="args">{c.arguments}</code>
              </p>
            ))}
          </li>
        ))}
      </ol>
      <h4>Tool calls</h4>
      {run.toolCalls.length === 0 ? <p class="muted">None.</p> : null}
      <ol>
        {run.toolCalls.map((c) => (
          <li key={c.id}>
            <code>{c.tool}</code> in {Math.round(c.durationMs)} ms{c.replayed ? ' (replayed)' : ''}
            {c.error ? <span class="bad"> — {c.error}</span> : null}
            <details>
              <summary>Arguments and result</summary>
              <Json value={{ arguments: c.arguments, result: c.result }} label={`Tool call ${c.tool}`} />
            </details>
          </li>
        ))}
      </ol>
      <h4>Provider calls</h4>
      <ol>
        {run.attempts.map((a, i) => (
          <li key={`${a.startedAt}-${i}`}>
            step {a.step}: <code>{a.model}</code> {a.status}
            {a.fallback ? ' (fallback)' : ''}
            {a.message ? ` — ${a.message}` : ''} · {a.inputTokens}+{a.outputTokens} tokens · {usd(a.cost)}
          </li>
        ))}
      </ol>
    </div>
  );
}

function CompareRuns({ runs }: { runs: AgentRun[] }) {
  const [left, setLeft] = useState<string | null>(null);
  const [right, setRight] = useState<string | null>(null);
  if (runs.length < 2)
    return <p class="muted">This task has {runs.length === 1 ? 'one run' : 'no runs'}; a retry adds one to compare.</p>;
  const options = runs.map(
    (r, i) => [r.id, `Run ${i + 1}: ${r.model ?? r.requestedModel ?? '?'} (${r.status})`] as [string, string],
  );
  const a = runs.find((r) => r.id === left) ?? runs[runs.length - 2];
  const b = runs.find((r) => r.id === right) ?? runs[runs.length - 1];
  if (!a || !b) return null;
  const rows: Array<[string, (r: AgentRun) => ComponentChildren]> = [
    ['Status', (r) => <Status status={r.status} />],
    ['Model', (r) => <code>{r.model ?? '—'}</code>],
    ['Requested model', (r) => r.requestedModel ?? '—'],
    ['Stop reason', (r) => r.stopReason ?? '—'],
    ['Steps', (r) => r.steps],
    ['Tokens', (r) => num(r.totalTokens)],
    ['Cost', (r) => usd(r.cost)],
    ['Duration', (r) => `${r.durationMs ?? '—'} ms`],
    ['Error', (r) => r.errorMessage ?? '—'],
    ['Output', (r) => <Json value={r.output} label="Run output" />],
  ];
  return (
    <div>
      <div class="two">
        <Select label="Left run" value={a.id} onChange={setLeft} options={options} />
        <Select label="Right run" value={b.id} onChange={setRight} options={options} />
      </div>
      <Scroller label="Two runs side by side">
        <table class="compare" data-testid="compare-runs">
          <caption>Two runs side by side</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">{options.find(([id]) => id === a.id)?.[1]}</th>
              <th scope="col">{options.find(([id]) => id === b.id)?.[1]}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, get]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <td>{get(a)}</td>
                <td>{get(b)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroller>
      <div class="two">
        <RunBody run={a} />
        <RunBody run={b} />
      </div>
    </div>
  );
}
