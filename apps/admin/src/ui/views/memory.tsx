import type { ActionInput, ActionOutput, Memory, MemoryType } from '@ora/contracts';
import { useState } from 'preact/hooks';
import { call } from '../api';
import { Check, ErrorBox, Field, Json, PageTitle, Select, Table, useAction, useApp, useMutation, when } from '../lib';

const TYPES: MemoryType[] = ['fact', 'preference', 'context', 'skill', 'instruction', 'reflection', 'task', 'entity'];
const ORA = 'ora';

const preview = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
};

function useAgentOptions(): Array<[string, string]> {
  const agents = useAction('agents.list', {}, []);
  return [
    ['', 'every agent'],
    [ORA, "ORA's own"],
    ...(agents.data?.items ?? []).map((a) => [a.id, a.name] as [string, string]),
  ];
}

const agentFilter = (value: string) => (value === '' ? {} : { agentId: value === ORA ? null : value });

export function MemoryView() {
  const [selected, setSelected] = useState<Memory | null>(null);
  return (
    <section>
      <PageTitle>Memory</PageTitle>
      <SearchPanel onOpen={setSelected} />
      <BrowsePanel onOpen={setSelected} />
      {selected ? <MemoryPanel key={selected.id} memory={selected} onClose={() => setSelected(null)} /> : null}
      <RevertPanel />
      <Conversations />
    </section>
  );
}

function SearchPanel({ onOpen }: { onOpen: (m: Memory) => void }) {
  const agentOptions = useAgentOptions();
  const [form, setForm] = useState({ query: '', agent: '', type: '', mode: 'auto', archived: false });
  const [result, setResult] = useState<ActionOutput<'memory.search'> | null>(null);
  const { busy, error, run } = useMutation();
  return (
    <div class="panel">
      <h2 id="memory-search-title">Search</h2>
      <form
        class="filters"
        aria-labelledby="memory-search-title"
        onSubmit={async (e) => {
          e.preventDefault();
          const found = await run(() =>
            call('memory.search', {
              query: form.query,
              ...agentFilter(form.agent),
              ...(form.type ? { types: [form.type as MemoryType] } : {}),
              mode: form.mode as 'auto',
              includeArchived: form.archived,
              limit: 20,
            }),
          );
          if (found) setResult(found);
        }}
      >
        <Field
          label="Query"
          type="search"
          value={form.query}
          onInput={(query) => setForm({ ...form, query })}
          required
        />
        <Select
          label="Agent"
          value={form.agent}
          onChange={(agent) => setForm({ ...form, agent })}
          options={agentOptions}
        />
        <Select
          label="Type"
          value={form.type}
          onChange={(type) => setForm({ ...form, type })}
          options={[['', 'any'], ...TYPES.map((t) => [t, t] as [string, string])]}
        />
        <Select
          label="Mode"
          value={form.mode}
          onChange={(mode) => setForm({ ...form, mode })}
          options={[
            ['auto', 'auto'],
            ['hybrid', 'hybrid'],
            ['fulltext', 'full-text'],
            ['vector', 'vector'],
          ]}
        />
        <Check
          label="Include archived"
          checked={form.archived}
          onChange={(archived) => setForm({ ...form, archived })}
        />
        <button type="submit" disabled={busy}>
          Search
        </button>
      </form>
      <ErrorBox error={error} />
      {result ? (
        <>
          <p class="muted">
            Mode {result.mode}
            {result.notice ? ` — ${result.notice}` : ''}. Weights: relevance {result.weights.relevance}, importance{' '}
            {result.weights.importance}, recency {result.weights.recency}, frequency {result.weights.frequency}.
          </p>
          <Table
            caption="Search hits with their score breakdown"
            head={['Memory', 'Total', 'Relevance', 'Text', 'Vector', 'Importance', 'Recency', 'Frequency']}
          >
            {result.hits.map(({ memory, score }) => (
              <tr key={memory.id} data-testid="search-hit">
                <th scope="row">
                  <button type="button" class="link" onClick={() => onOpen(memory)}>
                    {memory.type}/{memory.key}
                  </button>
                  <div class="muted">{preview(memory.content)}</div>
                </th>
                <td>{score.total.toFixed(3)}</td>
                <td>{score.relevance.toFixed(3)}</td>
                <td>{score.text?.toFixed(3) ?? '—'}</td>
                <td>{score.vector?.toFixed(3) ?? '—'}</td>
                <td>{score.importance.toFixed(3)}</td>
                <td>{score.recency.toFixed(3)}</td>
                <td>{score.frequency.toFixed(3)}</td>
              </tr>
            ))}
          </Table>
          {result.hits.length === 0 ? <p>No memory matches.</p> : null}
        </>
      ) : null}
    </div>
  );
}

function BrowsePanel({ onOpen }: { onOpen: (m: Memory) => void }) {
  const agentOptions = useAgentOptions();
  const [form, setForm] = useState({ agent: '', type: '', keyPrefix: '', pinned: false, archived: false });
  const [applied, setApplied] = useState(form);
  const query: ActionInput<'memory.list'> = {
    limit: 50,
    ...agentFilter(applied.agent),
    ...(applied.type ? { type: applied.type as MemoryType } : {}),
    ...(applied.keyPrefix ? { keyPrefix: applied.keyPrefix } : {}),
    ...(applied.pinned ? { pinned: true } : {}),
    archived: applied.archived,
  };
  const memories = useAction('memory.list', query, [JSON.stringify(applied)]);
  return (
    <div class="panel">
      <h2 id="memory-browse-title">Browse</h2>
      <form
        class="filters"
        aria-labelledby="memory-browse-title"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
        }}
      >
        <Select
          label="Agent"
          value={form.agent}
          onChange={(agent) => setForm({ ...form, agent })}
          options={agentOptions}
        />
        <Select
          label="Type"
          value={form.type}
          onChange={(type) => setForm({ ...form, type })}
          options={[['', 'any'], ...TYPES.map((t) => [t, t] as [string, string])]}
        />
        <Field
          label="Key starts with"
          value={form.keyPrefix}
          onInput={(keyPrefix) => setForm({ ...form, keyPrefix })}
        />
        <Check label="Pinned only" checked={form.pinned} onChange={(pinned) => setForm({ ...form, pinned })} />
        <Check label="Archived" checked={form.archived} onChange={(archived) => setForm({ ...form, archived })} />
        <button type="submit">Apply filters</button>
      </form>
      <ErrorBox error={memories.error} />
      <Table
        caption="Memories, most recently written first"
        head={['Memory', 'Content', 'Importance', 'Pinned', 'Version', 'Updated']}
      >
        {(memories.data?.items ?? []).map((m) => (
          <tr key={m.id}>
            <th scope="row">
              <button type="button" class="link" onClick={() => onOpen(m)}>
                {m.type}/{m.key}
              </button>
            </th>
            <td>{preview(m.content)}</td>
            <td>{m.importance.toFixed(2)}</td>
            <td>{m.pinned ? 'yes' : 'no'}</td>
            <td>{m.version}</td>
            <td>{when(m.updatedAt)}</td>
          </tr>
        ))}
      </Table>
    </div>
  );
}

function MemoryPanel({ memory: initial, onClose }: { memory: Memory; onClose: () => void }) {
  const { notify } = useApp();
  const [memory, setMemory] = useState(initial);
  const history = useAction('memory.history', { id: memory.id, limit: 50 }, [memory.id, memory.version]);
  const { busy, error, run } = useMutation();
  return (
    <section class="panel" aria-labelledby="memory-panel-title">
      <h2 id="memory-panel-title">
        {memory.type}/{memory.key}
      </h2>
      <p class="muted">
        Version {memory.version} · importance {memory.importance} · {memory.pinned ? 'pinned' : 'not pinned'} ·{' '}
        {memory.archived ? 'archived' : 'live'} · written by{' '}
        {memory.createdBy.taskId ? (
          <a href={`#/tasks/${memory.createdBy.taskId}`}>a task</a>
        ) : memory.createdBy.keyId ? (
          'a key'
        ) : (
          'the server'
        )}
      </p>
      <Json value={memory.content} label="Memory content" />
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            const out = await run(() =>
              call('memory.upsert', {
                agentId: memory.agentId,
                type: memory.type,
                key: memory.key,
                content: memory.content,
                pinned: !memory.pinned,
              }),
            );
            if (out) {
              setMemory(out.memory);
              notify(out.memory.pinned ? 'Pinned' : 'Unpinned');
            }
          }}
        >
          {memory.pinned ? 'Unpin' : 'Pin'}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            const out = await run(() => call('memory.archive', { id: memory.id, archived: !memory.archived }));
            if (out) {
              setMemory(out);
              notify(out.archived ? 'Archived' : 'Brought back');
            }
          }}
        >
          {memory.archived ? 'Unarchive' : 'Archive'}
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorBox error={error} />
      <h3>History</h3>
      <ErrorBox error={history.error} />
      <Table caption="Versions, newest first" head={['Version', 'Change', 'Content', 'Written by', 'When']}>
        {(history.data?.items ?? []).map((v) => (
          <tr key={v.version}>
            <td>{v.version}</td>
            <td>{v.change}</td>
            <td>{preview(v.content)}</td>
            <td>
              {v.writtenBy.runId ? `run ${v.writtenBy.runId.slice(0, 8)}` : ''}
              {v.writtenBy.taskId ? (
                <>
                  {' '}
                  <a href={`#/tasks/${v.writtenBy.taskId}`}>task</a>
                </>
              ) : null}
              {!v.writtenBy.runId && !v.writtenBy.taskId ? (v.writtenBy.keyId ? 'a key' : 'the server') : null}
            </td>
            <td>{when(v.createdAt)}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}

function RevertPanel() {
  const { notify } = useApp();
  const [form, setForm] = useState({ by: 'runId', id: '', force: false });
  const [result, setResult] = useState<ActionOutput<'memory.revert'> | null>(null);
  const { busy, error, run } = useMutation();
  return (
    <form
      class="panel"
      aria-labelledby="revert-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const out = await run(() => call('memory.revert', { [form.by]: form.id.trim(), force: form.force }));
        if (out) {
          setResult(out);
          notify(`Reverted ${out.reverted.length} memories`);
        }
      }}
    >
      <h2 id="revert-title">Revert one run's memory writes</h2>
      <Select
        label="Revert by"
        value={form.by}
        onChange={(by) => setForm({ ...form, by })}
        options={[
          ['runId', 'run id'],
          ['taskId', 'task id'],
        ]}
      />
      <Field label="Id" value={form.id} onInput={(id) => setForm({ ...form, id })} required />
      <Check
        label="Also revert memories changed since by someone else"
        checked={form.force}
        onChange={(force) => setForm({ ...form, force })}
      />
      <button type="submit" disabled={busy}>
        Revert writes
      </button>
      <ErrorBox error={error} />
      {result ? <Json value={result} label="Revert result" /> : null}
    </form>
  );
}

function Conversations() {
  const conversations = useAction('conversations.list', { limit: 50 }, []);
  const [open, setOpen] = useState<string | null>(null);
  const thread = useAction('conversations.get', open ? { id: open, messagesLimit: 200 } : null, [open]);
  return (
    <div class="panel">
      <h2>Conversations</h2>
      <ErrorBox error={conversations.error} />
      <Table
        caption="Conversations, most recently active first"
        head={['Title', 'Status', 'Messages', 'Tokens', 'Updated']}
      >
        {(conversations.data?.items ?? []).map((c) => (
          <tr key={c.id}>
            <th scope="row">
              <button type="button" class="link" onClick={() => setOpen(c.id)}>
                {c.title ?? 'Untitled'}
              </button>
            </th>
            <td>{c.status}</td>
            <td>{c.messageCount}</td>
            <td>{c.tokenCount}</td>
            <td>{when(c.updatedAt)}</td>
          </tr>
        ))}
      </Table>
      {(conversations.data?.items.length ?? 0) === 0 ? <p class="muted">No conversations yet.</p> : null}
      {open && thread.data ? (
        <section aria-labelledby="thread-title">
          <h3 id="thread-title">{thread.data.conversation.title ?? 'Untitled'}</h3>
          {thread.data.conversation.summary ? <p class="muted">Summary: {thread.data.conversation.summary}</p> : null}
          <ol class="transcript">
            {thread.data.messages.map((m) => (
              <li key={m.id} class={`msg msg-${m.role}`}>
                <strong>{m.role}</strong> <span class="muted">{when(m.createdAt)}</span>
                <pre class="text">{m.content}</pre>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      <ErrorBox error={thread.error} />
    </div>
  );
}
