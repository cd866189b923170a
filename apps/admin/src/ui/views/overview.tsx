import type { OraEvent } from '@ora/contracts';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, num, PageTitle, Table, usd, useAction, useApp, when } from '../lib';

const taskEvent = (e: OraEvent) => e.type.startsWith('task.');

export function OverviewView() {
  const { live } = useApp();
  const stats = useAction('tasks.stats', {}, [], taskEvent);
  const [recent, setRecent] = useState<OraEvent[]>(() => [...live.recent]);
  useEffect(() => live.subscribe(() => setRecent([...live.recent])), [live]);
  const totals = stats.data?.totals;
  const cards: Array<[string, string]> = totals
    ? [
        ['Queue depth', num(totals.pending + totals.queued)],
        ['Running', num(totals.running)],
        ['Waiting for approval', num(totals.awaitingApproval)],
        ['Waiting for input', num(totals.waiting)],
        ['Failures today', num(totals.failed)],
        ['Succeeded today', num(totals.succeeded)],
        ['Tokens today', num(totals.tokens)],
        ['Cost today', usd(totals.cost)],
      ]
    : [];
  return (
    <section aria-labelledby="overview-title">
      <PageTitle>
        <span id="overview-title">Overview</span>
      </PageTitle>
      <ErrorBox error={stats.error} />
      {stats.data ? <p class="muted">Since {when(stats.data.since)} (today, UTC). Updates live.</p> : null}
      <dl class="cards" data-testid="overview-cards">
        {cards.map(([label, value]) => (
          <div class="card" key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h2>Per agent</h2>
      {stats.data ? (
        <Table
          caption="Tasks, runs, tokens and cost per agent"
          head={[
            'Agent',
            'Queued',
            'Running',
            'Approval',
            'Waiting',
            'Failed today',
            'Done today',
            'Runs',
            'Tokens',
            'Cost',
          ]}
        >
          {stats.data.agents.map((a) => (
            <tr key={a.agentId ?? 'system'}>
              <th scope="row">{a.slug ? <a href={`#/agents/${a.slug}`}>{a.name}</a> : a.name}</th>
              <td>{a.pending + a.queued}</td>
              <td>{a.running}</td>
              <td>{a.awaitingApproval}</td>
              <td>{a.waiting}</td>
              <td>{a.failed}</td>
              <td>{a.succeeded}</td>
              <td>{a.runs}</td>
              <td>{num(a.tokens)}</td>
              <td>{usd(a.cost)}</td>
            </tr>
          ))}
        </Table>
      ) : null}
      <h2>Latest events</h2>
      {recent.length === 0 ? (
        <p class="muted">No events since this page opened. They appear here as they happen.</p>
      ) : (
        <ol class="events" aria-label="Latest events, newest first">
          {recent.slice(0, 20).map((e) => (
            <li key={e.id}>
              <code>{e.type}</code> {when(e.createdAt)}{' '}
              {e.taskId ? (
                <a href={`#/tasks/${e.taskId}`}>{(e.payload as { title?: string })?.title ?? 'task'}</a>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
