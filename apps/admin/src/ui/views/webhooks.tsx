import type { WebhookDeliveryStatus } from '@ora/contracts';
import { useState } from 'preact/hooks';
import { call } from '../api';
import {
  Check,
  ConfirmButton,
  ErrorBox,
  Field,
  Json,
  list,
  num,
  PageTitle,
  Select,
  Status,
  Table,
  useAction,
  useApp,
  useMutation,
  when,
} from '../lib';

const emptyForm = { name: '', url: '', events: 'task.*', taskTypes: '', agentIds: '', maxRetries: '', active: true };

export function WebhooksView({ id }: { id: string | null }) {
  const { notify } = useApp();
  // Every event may mean a delivery: refresh the stats when any arrives.
  const hooks = useAction('webhooks.list', { limit: 200 }, [], () => true);
  const [form, setForm] = useState(emptyForm);
  const [secret, setSecret] = useState<string | null>(null);
  const { busy, error, run } = useMutation();
  const set = (field: keyof typeof form) => (value: string) => setForm({ ...form, [field]: value });
  return (
    <section>
      <PageTitle>Webhooks</PageTitle>
      {secret ? (
        <div class="secret" role="alert" aria-labelledby="whsec-title">
          <h2 id="whsec-title">Copy the signing secret now</h2>
          <p>It is shown this once. Receivers verify the webhook-signature header with it.</p>
          <p>
            <code data-testid="secret">{secret}</code>
          </p>
          <button type="button" onClick={() => setSecret(null)}>
            I have stored it
          </button>
        </div>
      ) : null}
      <ErrorBox error={hooks.error} />
      <Table caption="Webhooks" head={['Name', 'URL', 'Events', 'State', 'Deliveries', 'Last error']}>
        {(hooks.data?.items ?? []).map((w) => (
          <tr key={w.id}>
            <th scope="row">
              <a href={`#/webhooks/${w.id}`} aria-current={w.id === id ? 'true' : undefined}>
                {w.name}
              </a>
            </th>
            <td class="wrap">{w.url}</td>
            <td>{w.events.join(', ')}</td>
            <td>{w.disabledAt ? `disabled: ${w.disabledReason ?? ''}` : w.isActive ? 'active' : 'paused'}</td>
            <td>
              {num(w.successfulDeliveries)} ok · {num(w.failedDeliveries)} failed of {num(w.totalDeliveries)}
            </td>
            <td>{w.lastError ?? '—'}</td>
          </tr>
        ))}
      </Table>
      {id ? <WebhookDetail key={id} id={id} onChanged={() => void hooks.reload()} onSecret={setSecret} /> : null}
      <form
        class="panel"
        aria-labelledby="new-webhook-title"
        onSubmit={async (e) => {
          e.preventDefault();
          const filters = {
            ...(form.taskTypes.trim() ? { taskTypes: list(form.taskTypes) } : {}),
            ...(form.agentIds.trim() ? { agentIds: list(form.agentIds) } : {}),
          };
          const out = await run(() =>
            call('webhooks.create', {
              name: form.name,
              url: form.url,
              events: list(form.events),
              ...(Object.keys(filters).length ? { filters } : {}),
              ...(form.maxRetries ? { maxRetries: Number(form.maxRetries) } : {}),
              isActive: form.active,
            }),
          );
          if (out) {
            notify(`Webhook ${out.webhook.name} created`);
            setSecret(out.secret);
            setForm(emptyForm);
            await hooks.reload();
            location.hash = `#/webhooks/${out.webhook.id}`;
          }
        }}
      >
        <h2 id="new-webhook-title">Create a webhook</h2>
        <Field label="Name" value={form.name} onInput={set('name')} required />
        <Field label="URL" type="url" value={form.url} onInput={set('url')} required />
        <Field
          label="Events"
          value={form.events}
          onInput={set('events')}
          hint="Comma-separated: event types, <domain>.* (task.*, post.*) or *"
        />
        <div class="two">
          <Field
            label="Only task types"
            value={form.taskTypes}
            onInput={set('taskTypes')}
            hint="Comma-separated; empty: all"
          />
          <Field
            label="Only agent ids"
            value={form.agentIds}
            onInput={set('agentIds')}
            hint="Comma-separated; empty: all"
          />
        </div>
        <Field
          label="Retries"
          type="number"
          value={form.maxRetries}
          onInput={set('maxRetries')}
          hint="Empty: the default"
        />
        <Check label="Active" checked={form.active} onChange={(active) => setForm({ ...form, active })} />
        <button type="submit" disabled={busy}>
          Create webhook
        </button>
        <ErrorBox error={error} />
      </form>
    </section>
  );
}

function WebhookDetail({
  id,
  onChanged,
  onSecret,
}: {
  id: string;
  onChanged: () => void;
  onSecret: (s: string) => void;
}) {
  const { notify } = useApp();
  const [status, setStatus] = useState('');
  const hook = useAction('webhooks.get', { id }, [id], () => true, { followUpMs: [1000, 3000, 8000] });
  const deliveries = useAction(
    'webhooks.deliveries',
    { webhookId: id, limit: 50, ...(status ? { status: status as WebhookDeliveryStatus } : {}) },
    [id, status],
    () => true,
    {
      followUpMs: [1000, 3000, 8000],
      // Retries and in-flight attempts emit no event: look again while any delivery is unsettled.
      pollWhile: (page) => page.items.some((d) => d.status !== 'success' && d.status !== 'dead'),
    },
  );
  const { busy, error, run } = useMutation();
  const act = async (label: string, work: () => Promise<unknown>) => {
    const out = await run(work);
    if (out !== undefined) {
      notify(label);
      await Promise.all([hook.reload(), deliveries.reload()]);
      onChanged();
    }
    return out;
  };
  const w = hook.data;
  if (!w) return <ErrorBox error={hook.error} />;
  return (
    <section class="panel" aria-labelledby="webhook-detail-title">
      <h2 id="webhook-detail-title">{w.name}</h2>
      <p class="muted">
        {w.url} · events {w.events.join(', ')} · filters {JSON.stringify(w.filters)} · {w.maxRetries} retries after{' '}
        {w.retryDelaySeconds.join(', ')} s
      </p>
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() => void act('Test sent', () => call('webhooks.test', { id }))}
        >
          Send test
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void act(w.isActive ? 'Paused' : 'Resumed', () => call('webhooks.update', { id, isActive: !w.isActive }))
          }
        >
          {w.isActive ? 'Pause' : 'Resume'}
        </button>
        <ConfirmButton
          label="Rotate secret"
          confirmLabel="Confirm rotate secret"
          onConfirm={async () => {
            const out = await act('Secret rotated', () => call('webhooks.rotate_secret', { id }));
            if (out) onSecret((out as { secret: string }).secret);
          }}
        />
        <ConfirmButton
          label="Delete"
          confirmLabel={`Confirm delete ${w.name}`}
          onConfirm={async () => {
            const out = await act('Webhook deleted', () => call('webhooks.delete', { id }));
            if (out) location.hash = '#/webhooks';
          }}
        />
      </div>
      <ErrorBox error={error} />
      <h3>Delivery log</h3>
      <Select
        label="Delivery status"
        value={status}
        onChange={setStatus}
        options={[
          ['', 'any'],
          ['pending', 'pending'],
          ['delivering', 'delivering'],
          ['success', 'success'],
          ['failed', 'failed (will retry)'],
          ['dead', 'dead (no retry left)'],
        ]}
      />
      <ErrorBox error={deliveries.error} />
      <Table
        caption={`Deliveries of ${w.name}, newest first`}
        head={['Event', 'Status', 'Attempts', 'Last answer', 'Created', 'Actions']}
      >
        {(deliveries.data?.items ?? []).map((d) => (
          <tr key={d.id} data-testid="delivery" data-status={d.status}>
            <th scope="row">
              <code>{d.eventType}</code>
              <details>
                <summary>Payload and attempts</summary>
                <Json value={{ payload: d.payload, attempts: d.attempts }} label={`Delivery ${d.id}`} />
              </details>
            </th>
            <td>
              <Status status={d.status} />
            </td>
            <td>{d.attemptCount}</td>
            <td>{d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? '—')}</td>
            <td>{when(d.createdAt)}</td>
            <td>
              <button
                type="button"
                disabled={busy}
                onClick={() => void act('Delivery sent again', () => call('webhooks.replay', { deliveryId: d.id }))}
              >
                Replay
              </button>
            </td>
          </tr>
        ))}
      </Table>
      {(deliveries.data?.items.length ?? 0) === 0 ? <p class="muted">No deliveries yet.</p> : null}
    </section>
  );
}
