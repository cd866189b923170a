import type { ApiKey } from '@ora/contracts';
import { useState } from 'preact/hooks';
import { call } from '../api';
import {
  Check,
  ConfirmButton,
  ErrorBox,
  Field,
  list,
  num,
  PageTitle,
  Select,
  Table,
  useAction,
  useApp,
  useMutation,
  when,
} from '../lib';

/** A secret the server will never show again: shown once, in a labelled box, until dismissed. */
function SecretOnce({ secret, what, onDone }: { secret: string; what: string; onDone: () => void }) {
  return (
    <div class="secret" role="alert" aria-labelledby="secret-title">
      <h2 id="secret-title">Copy the secret of {what} now</h2>
      <p>It is shown this once: the server keeps only its hash.</p>
      <p>
        <code data-testid="secret">{secret}</code>
      </p>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(secret).catch(() => {})}>
        Copy to clipboard
      </button>{' '}
      <button type="button" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

const empty = { name: '', description: '', scopes: '*', allowedIps: '', perMinute: '', perDay: '', expiresAt: '' };

export function KeysView() {
  const { notify } = useApp();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const keys = useAction(
    'keys.list',
    { limit: 200, includeRevoked },
    [includeRevoked],
    (e) => e.type === 'key.revoked',
  );
  const [form, setForm] = useState(empty);
  const [secret, setSecret] = useState<{ secret: string; what: string } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [changes, setChanges] = useState(0);
  const { busy, error, run } = useMutation();
  const set = (field: keyof typeof form) => (value: string) => setForm({ ...form, [field]: value });
  const act = async (label: string, work: () => Promise<unknown>) => {
    const out = await run(work);
    if (out !== undefined) {
      notify(label);
      setChanges((n) => n + 1);
      await keys.reload();
    }
    return out;
  };
  return (
    <section>
      <PageTitle>API keys</PageTitle>
      {secret ? <SecretOnce {...secret} onDone={() => setSecret(null)} /> : null}
      <ErrorBox error={error} />
      <Check label="Show revoked keys" checked={includeRevoked} onChange={setIncludeRevoked} />
      <ErrorBox error={keys.error} />
      <Table caption="API keys" head={['Name', 'Scopes', 'Allowlist', 'Limits', 'Usage', 'State', 'Actions']}>
        {(keys.data?.items ?? []).map((k) => (
          <tr key={k.id} data-key-name={k.name}>
            <th scope="row">
              {k.name}
              <div class="muted">
                <code>{k.prefix}…</code>
              </div>
            </th>
            <td>{k.scopes.join(', ')}</td>
            <td>{k.allowedIps?.join(', ') ?? 'any address'}</td>
            <td>
              {num(k.rateLimitPerMinute)}/min · {num(k.rateLimitPerDay)}/day
            </td>
            <td>
              {num(k.totalRequests)} requests
              <div class="muted">
                last {when(k.lastUsedAt)}
                {k.lastUsedIp ? ` from ${k.lastUsedIp}` : ''}
              </div>
            </td>
            <td data-testid="key-state">
              {k.revokedAt ? `revoked ${when(k.revokedAt)}` : k.expiresAt ? `expires ${when(k.expiresAt)}` : 'active'}
            </td>
            <td>
              {k.revokedAt ? null : (
                <div class="actions">
                  <button
                    type="button"
                    onClick={() => setEditing(editing === k.id ? null : k.id)}
                    aria-expanded={editing === k.id}
                  >
                    Edit
                  </button>
                  <ConfirmButton
                    label="Rotate"
                    confirmLabel="Confirm rotate"
                    onConfirm={async () => {
                      const out = await act(`Key ${k.name} rotated`, () => call('keys.rotate', { id: k.id }));
                      if (out) setSecret({ secret: (out as { secret: string }).secret, what: `${k.name} (rotated)` });
                    }}
                  />
                  <ConfirmButton
                    label="Revoke"
                    confirmLabel={`Confirm revoke ${k.name}`}
                    onConfirm={() =>
                      void act(`Key ${k.name} revoked`, () =>
                        call('keys.revoke', { id: k.id, reason: 'revoked in the admin UI' }),
                      )
                    }
                  />
                </div>
              )}
            </td>
          </tr>
        ))}
      </Table>
      {editing ? (
        <KeyEditor
          key={editing}
          apiKey={(keys.data?.items ?? []).find((k) => k.id === editing) as ApiKey}
          onDone={() => {
            setEditing(null);
            setChanges((n) => n + 1);
            void keys.reload();
          }}
        />
      ) : null}
      <form
        class="panel"
        aria-labelledby="new-key-title"
        onSubmit={async (e) => {
          e.preventDefault();
          const out = await act(`Key ${form.name} created`, async () =>
            call('keys.create', {
              name: form.name,
              ...(form.description ? { description: form.description } : {}),
              scopes: list(form.scopes),
              allowedIps: form.allowedIps.trim() ? list(form.allowedIps) : null,
              ...(form.perMinute ? { rateLimitPerMinute: Number(form.perMinute) } : {}),
              ...(form.perDay ? { rateLimitPerDay: Number(form.perDay) } : {}),
              ...(form.expiresAt ? { expiresAt: new Date(form.expiresAt).toISOString() } : {}),
            }),
          );
          if (out) {
            setSecret({ secret: (out as { secret: string }).secret, what: form.name });
            setForm(empty);
          }
        }}
      >
        <h2 id="new-key-title">Create a key</h2>
        <Field label="Name" value={form.name} onInput={set('name')} required />
        <Field label="Description" value={form.description} onInput={set('description')} />
        <Field
          label="Scopes"
          value={form.scopes}
          onInput={set('scopes')}
          hint="Comma-separated: * for everything, or e.g. tasks:read, memory:*, posts:write"
        />
        <Field
          label="IP allowlist"
          value={form.allowedIps}
          onInput={set('allowedIps')}
          hint="Comma-separated addresses or CIDR blocks; empty allows any"
        />
        <div class="two">
          <Field
            label="Requests per minute"
            type="number"
            value={form.perMinute}
            onInput={set('perMinute')}
            hint="Empty: the server default"
          />
          <Field
            label="Requests per day"
            type="number"
            value={form.perDay}
            onInput={set('perDay')}
            hint="Empty: the server default"
          />
        </div>
        <Field
          label="Expires at"
          type="datetime-local"
          value={form.expiresAt}
          onInput={set('expiresAt')}
          hint="Empty: never"
        />
        <button type="submit" disabled={busy}>
          Create key
        </button>
      </form>
      <AuditLog keys={keys.data?.items ?? []} changes={changes} />
    </section>
  );
}

/** The audit log (`audit.list`): every change any key made, newest first, when and from where. */
function AuditLog({ keys, changes }: { keys: readonly ApiKey[]; changes: number }) {
  const [keyId, setKeyId] = useState('');
  const log = useAction('audit.list', keyId ? { limit: 50, keyId } : { limit: 50 }, [keyId, changes]);
  const names = new Map(keys.map((k) => [k.id, k.name]));
  return (
    <section class="panel" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <p class="muted">
        The last 50 changes, newest first: by a key, or by ORA itself (agent runs and tasks, whose request id names
        them) and the public forms.
      </p>
      <Select
        label="Made by"
        value={keyId}
        onChange={setKeyId}
        options={[['', 'any key'], ...keys.map((k): [string, string] => [k.id, k.name])]}
      />
      <button type="button" onClick={() => void log.reload()}>
        Refresh
      </button>
      <ErrorBox error={log.error} />
      <Table caption="Audit log" head={['When', 'Key', 'Action', 'Target', 'From', 'Request id']}>
        {(log.data?.items ?? []).map((entry) => (
          <tr key={entry.id} data-audit-action={entry.action}>
            <td>{when(entry.at)}</td>
            <td>{entry.keyId ? (names.get(entry.keyId) ?? `${entry.keyId.slice(0, 8)}…`) : 'no key'}</td>
            <td>
              <code>{entry.action}</code>
            </td>
            <td>{entry.targetType ? `${entry.targetType} ${entry.targetId ?? ''}` : '—'}</td>
            <td>{entry.ip ?? '—'}</td>
            <td>
              <code>{entry.requestId ?? '—'}</code>
            </td>
          </tr>
        ))}
      </Table>
    </section>
  );
}

function KeyEditor({ apiKey, onDone }: { apiKey: ApiKey; onDone: () => void }) {
  const { notify } = useApp();
  const [form, setForm] = useState({
    name: apiKey.name,
    scopes: apiKey.scopes.join(', '),
    allowedIps: apiKey.allowedIps?.join(', ') ?? '',
    perMinute: String(apiKey.rateLimitPerMinute),
    perDay: String(apiKey.rateLimitPerDay),
  });
  const { busy, error, run } = useMutation();
  const set = (field: keyof typeof form) => (value: string) => setForm({ ...form, [field]: value });
  return (
    <form
      class="panel"
      aria-labelledby="edit-key-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const out = await run(() =>
          call('keys.update', {
            id: apiKey.id,
            name: form.name,
            scopes: list(form.scopes),
            allowedIps: form.allowedIps.trim() ? list(form.allowedIps) : null,
            rateLimitPerMinute: Number(form.perMinute),
            rateLimitPerDay: Number(form.perDay),
          }),
        );
        if (out) {
          notify(`Key ${out.name} saved`);
          onDone();
        }
      }}
    >
      <h2 id="edit-key-title">Edit {apiKey.name}</h2>
      <Field label="Name" value={form.name} onInput={set('name')} required />
      <Field label="Scopes" value={form.scopes} onInput={set('scopes')} />
      <Field label="IP allowlist" value={form.allowedIps} onInput={set('allowedIps')} hint="Empty allows any address" />
      <div class="two">
        <Field label="Requests per minute" type="number" value={form.perMinute} onInput={set('perMinute')} />
        <Field label="Requests per day" type="number" value={form.perDay} onInput={set('perDay')} />
      </div>
      <button type="submit" disabled={busy}>
        Save key
      </button>{' '}
      <button type="button" onClick={onDone}>
        Close
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
