import type { ActionOutput } from '@ora/contracts';
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import {
  Check,
  ErrorBox,
  Field,
  list,
  num,
  PageTitle,
  Status,
  Table,
  usd,
  useAction,
  useApp,
  useMutation,
  when,
} from '../lib';

export function AgentsView({ slug }: { slug: string | null }) {
  const agents = useAction('agents.list', {}, []);
  return (
    <section>
      <PageTitle>{slug ? `Agent ${slug}` : 'Agents'}</PageTitle>
      <ErrorBox error={agents.error} />
      <Table caption="Agents" head={['Name', 'Model', 'Fallbacks', 'Tools', 'Limits', 'Active']}>
        {(agents.data?.items ?? []).map((a) => (
          <tr key={a.id}>
            <th scope="row">
              <a href={`#/agents/${a.slug}`} aria-current={a.slug === slug ? 'true' : undefined}>
                {a.name}
              </a>{' '}
              <span class="muted">({a.slug})</span>
            </th>
            <td>
              <code>{a.model ?? 'server default'}</code>
            </td>
            <td>{a.fallbackModels.join(', ') || '—'}</td>
            <td>{a.tools.length}</td>
            <td>
              {a.maxSteps} steps · {a.maxTokens ? `${num(a.maxTokens)} tokens` : 'no token cap'} ·{' '}
              {a.maxCostUsd !== null ? usd(a.maxCostUsd) : 'no cost cap'}
            </td>
            <td>{a.isActive ? 'yes' : 'no'}</td>
          </tr>
        ))}
      </Table>
      {slug ? (
        <AgentEditor slug={slug} onSaved={() => void agents.reload()} />
      ) : (
        <p>Pick an agent to see and edit it.</p>
      )}
    </section>
  );
}

type Detail = ActionOutput<'agents.get'>;

function formOf(a: Detail) {
  return {
    name: a.name,
    description: a.description ?? '',
    systemPrompt: a.systemPrompt,
    model: a.model ?? '',
    fallbackModels: a.fallbackModels.join(', '),
    tools: a.tools.join(', '),
    maxSteps: String(a.maxSteps),
    maxTokens: a.maxTokens === null ? '' : String(a.maxTokens),
    maxCostUsd: a.maxCostUsd === null ? '' : String(a.maxCostUsd),
    timeoutMs: String(a.timeoutMs),
    temperature: a.config.temperature === undefined ? '' : String(a.config.temperature),
    isActive: a.isActive,
  };
}

function AgentEditor({ slug, onSaved }: { slug: string; onSaved: () => void }) {
  const { notify } = useApp();
  const agent = useAction('agents.get', { agent: slug }, [slug], (e) => e.type.startsWith('task.'));
  const [form, setForm] = useState<ReturnType<typeof formOf> | null>(null);
  const { busy, error, run } = useMutation();
  useEffect(() => {
    if (agent.data && !form) setForm(formOf(agent.data));
  }, [agent.data]);
  const a = agent.data;
  if (!a || !form) return <ErrorBox error={agent.error} />;
  const set = (field: keyof typeof form) => (value: string) => setForm({ ...form, [field]: value });
  const optionalNumber = (text: string) => (text.trim() === '' ? null : Number(text));
  return (
    <>
      <form
        class="panel"
        aria-labelledby="agent-edit-title"
        onSubmit={async (e) => {
          e.preventDefault();
          const saved = await run(() =>
            call('agents.update', {
              agent: slug,
              name: form.name,
              description: form.description || null,
              systemPrompt: form.systemPrompt,
              model: form.model.trim() || null,
              fallbackModels: list(form.fallbackModels),
              tools: list(form.tools),
              maxSteps: Number(form.maxSteps),
              maxTokens: optionalNumber(form.maxTokens),
              maxCostUsd: optionalNumber(form.maxCostUsd),
              timeoutMs: Number(form.timeoutMs),
              config: {
                ...a.config,
                ...(form.temperature.trim() ? { temperature: Number(form.temperature) } : {}),
              },
              isActive: form.isActive,
            }),
          );
          if (saved) {
            notify(`Agent ${saved.name} saved`);
            setForm(null);
            await agent.reload();
            onSaved();
          }
        }}
      >
        <h2 id="agent-edit-title">Edit {a.name}</h2>
        <Field label="Name" value={form.name} onInput={set('name')} required />
        <Field label="Description" value={form.description} onInput={set('description')} />
        <Field label="System prompt" multiline rows={8} value={form.systemPrompt} onInput={set('systemPrompt')} />
        <div class="two">
          <Field
            label="Model"
            value={form.model}
            onInput={set('model')}
            hint="provider/model, e.g. openai/gpt-4o-mini; empty: the server default"
          />
          <Field
            label="Fallback models"
            value={form.fallbackModels}
            onInput={set('fallbackModels')}
            hint="Comma-separated, tried in order"
          />
        </div>
        <Field label="Tools" value={form.tools} onInput={set('tools')} hint="Comma-separated tool names" />
        <div class="four">
          <Field label="Max steps" type="number" value={form.maxSteps} onInput={set('maxSteps')} />
          <Field
            label="Max tokens per run"
            type="number"
            value={form.maxTokens}
            onInput={set('maxTokens')}
            hint="Empty: none"
          />
          <Field
            label="Max cost per run (USD)"
            type="number"
            value={form.maxCostUsd}
            onInput={set('maxCostUsd')}
            hint="Empty: none"
          />
          <Field label="Timeout (ms)" type="number" value={form.timeoutMs} onInput={set('timeoutMs')} />
          <Field label="Temperature" type="number" value={form.temperature} onInput={set('temperature')} />
        </div>
        <Check label="Active" checked={form.isActive} onChange={(isActive) => setForm({ ...form, isActive })} />
        <button type="submit" disabled={busy}>
          Save agent
        </button>
        <ErrorBox error={error} />
      </form>
      <h2>Tools this agent may call</h2>
      <ul>
        {a.availableTools.map((t) => (
          <li key={t.name}>
            <code>{t.name}</code> — {t.description} {t.available ? '' : <em>(not available on this server)</em>}
          </li>
        ))}
      </ul>
      <h2>Recent runs</h2>
      <Table caption={`Recent runs of ${a.name}`} head={['Started', 'Status', 'Model', 'Tokens', 'Cost', 'Task']}>
        {a.recentRuns.map((r) => (
          <tr key={r.id}>
            <td>{when(r.startedAt)}</td>
            <td>
              <Status status={r.status} />
            </td>
            <td>
              <code>{r.model ?? '—'}</code>
            </td>
            <td>{num(r.totalTokens)}</td>
            <td>{usd(r.cost)}</td>
            <td>{r.taskId ? <a href={`#/tasks/${r.taskId}`}>open task</a> : '—'}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}
