import type { SyncConflict } from '@ora/contracts';
import { useState } from 'preact/hooks';
import { call } from '../api';
import { ErrorBox, Field, Json, num, PageTitle, Select, Table, useAction, useApp, useMutation, when } from '../lib';

const syncEvent = (e: { type: string }) => e.type === 'sync.conflict' || e.type === 'memory.conflict';

export function SyncView() {
  const status = useAction('sync.status', {}, [], syncEvent);
  const [filter, setFilter] = useState('pending');
  const conflicts = useAction(
    'sync.conflicts',
    { limit: 50, ...(filter ? { status: filter as 'pending' } : {}) },
    [filter],
    syncEvent,
  );
  const s = status.data;
  return (
    <section>
      <PageTitle>Sync</PageTitle>
      <ErrorBox error={status.error} />
      {s ? (
        <>
          <dl class="cards">
            {(
              [
                ['Server version', s.serverVersion],
                ['Memories', num(s.counts.memories)],
                ['Conversations', num(s.counts.conversations)],
                ['Tombstones', num(s.counts.tombstones)],
                ['Conflicts waiting', num(s.counts.conflictsPending)],
                ['Conflicts resolved', num(s.counts.conflictsResolved)],
              ] as Array<[string, string]>
            ).map(([label, value]) => (
              <div class="card" key={label}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          <Table
            caption="Clients"
            head={['Client', 'Agent', 'Last mutation', 'Pull cursor', 'Last push', 'Last pull', 'Waiting conflicts']}
          >
            {s.clients.map((c) => (
              <tr key={c.clientId}>
                <th scope="row">
                  <code>{c.clientId}</code>
                </th>
                <td>{c.agentId ?? 'all'}</td>
                <td>{c.lastMutationId}</td>
                <td>{c.lastPullCursor}</td>
                <td>{when(c.lastPushAt)}</td>
                <td>{when(c.lastPullAt)}</td>
                <td>{c.pendingConflicts}</td>
              </tr>
            ))}
          </Table>
          {s.clients.length === 0 ? <p class="muted">No client has synced yet.</p> : null}
        </>
      ) : null}
      <h2>Conflict inbox</h2>
      <Select
        label="Show conflicts"
        value={filter}
        onChange={setFilter}
        options={[
          ['pending', 'waiting for a decision'],
          ['resolved', 'resolved'],
          ['', 'all'],
        ]}
      />
      <ErrorBox error={conflicts.error} />
      {(conflicts.data?.items ?? []).map((c) => (
        <ConflictCard
          key={c.id}
          conflict={c}
          onResolved={() => {
            void conflicts.reload();
            void status.reload();
          }}
        />
      ))}
      {conflicts.data && conflicts.data.items.length === 0 ? <p>No conflicts here.</p> : null}
    </section>
  );
}

function ConflictCard({ conflict: c, onResolved }: { conflict: SyncConflict; onResolved: () => void }) {
  const { notify } = useApp();
  const [merged, setMerged] = useState(() =>
    JSON.stringify(c.localVersion.content ?? c.serverVersion.content, null, 2),
  );
  const { busy, error, run } = useMutation();
  const resolve = async (keep: 'server' | 'local' | 'merged') => {
    const out = await run(async () => {
      let value: unknown;
      if (keep === 'merged') {
        try {
          value = JSON.parse(merged);
        } catch {
          throw new Error('The merged value must be JSON');
        }
      }
      return call('sync.resolve', { conflictId: c.id, keep, ...(keep === 'merged' ? { merged: value } : {}) });
    });
    if (out) {
      notify(`Conflict on ${c.key ?? c.syncId} resolved: kept ${keep}`);
      onResolved();
    }
  };
  const titleId = `conflict-${c.id}`;
  return (
    <article class="panel conflict" aria-labelledby={titleId} data-testid="conflict" data-status={c.status}>
      <h3 id={titleId}>
        {c.type} <code>{c.key ?? c.syncId}</code> from {c.clientId ?? 'a client'}
      </h3>
      <p class="muted">
        {c.strategy} · {c.outcome} · {when(c.createdAt)}
        {c.resolvedAt ? ` · resolved ${when(c.resolvedAt)}` : ''}
      </p>
      <div class="two">
        <div>
          <h4>Server version</h4>
          <Json value={c.serverVersion.content} label="Server version" />
        </div>
        <div>
          <h4>Client version</h4>
          <Json value={c.localVersion.content} label="Client version" />
        </div>
      </div>
      {c.status === 'pending' ? (
        <>
          <Field label="Merged value (JSON)" multiline rows={6} value={merged} onInput={setMerged} />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => void resolve('server')}>
              Keep server
            </button>
            <button type="button" disabled={busy} onClick={() => void resolve('local')}>
              Keep client
            </button>
            <button type="button" disabled={busy} onClick={() => void resolve('merged')}>
              Keep merged
            </button>
          </div>
        </>
      ) : c.mergedVersion ? (
        <>
          <h4>Merged</h4>
          <Json value={c.mergedVersion.content} label="Merged version" />
        </>
      ) : null}
      <ErrorBox error={error} />
    </article>
  );
}
