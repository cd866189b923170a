import type { ActionInput, Task, TaskStatus } from '@ora/contracts';
import { useState } from 'preact/hooks';
import { call } from '../api';
import {
  Check,
  ErrorBox,
  Field,
  PageTitle,
  parseJson,
  Select,
  Status,
  Table,
  useAction,
  useApp,
  useMutation,
  when,
} from '../lib';
import { awaitsApproval, TaskActions } from './task-parts';

const STATUSES: TaskStatus[] = ['pending', 'queued', 'running', 'waiting', 'success', 'error', 'cancelled', 'expired'];

export function TasksView() {
  const [filters, setFilters] = useState({ status: '', agent: '', taskType: '', search: '' });
  const [applied, setApplied] = useState(filters);
  const [more, setMore] = useState<Task[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const agents = useAction('agents.list', {}, []);
  const query: ActionInput<'tasks.list'> = {
    limit: 50,
    ...(applied.status ? { status: applied.status as TaskStatus } : {}),
    ...(applied.agent ? { agent: applied.agent } : {}),
    ...(applied.taskType.trim() ? { taskType: applied.taskType.trim() } : {}),
    ...(applied.search.trim() ? { search: applied.search.trim() } : {}),
  };
  const tasks = useAction('tasks.list', query, [JSON.stringify(applied)], (e) => e.type.startsWith('task.'));
  const rows = [...(tasks.data?.items ?? []), ...more];
  const nextCursor = more.length ? cursor : (tasks.data?.nextCursor ?? null);
  const set = (field: keyof typeof filters) => (value: string) => setFilters({ ...filters, [field]: value });
  return (
    <section>
      <PageTitle>Tasks</PageTitle>
      <form
        class="filters"
        aria-label="Filter tasks"
        onSubmit={(e) => {
          e.preventDefault();
          setMore([]);
          setApplied(filters);
        }}
      >
        <Field label="Search title and input" type="search" value={filters.search} onInput={set('search')} />
        <Select
          label="Status"
          value={filters.status}
          onChange={set('status')}
          options={[['', 'any'], ...STATUSES.map((s) => [s, s] as [string, string])]}
        />
        <Select
          label="Agent"
          value={filters.agent}
          onChange={set('agent')}
          options={[['', 'any'], ...(agents.data?.items ?? []).map((a) => [a.slug, a.name] as [string, string])]}
        />
        <Field label="Task type" value={filters.taskType} onInput={set('taskType')} />
        <button type="submit">Apply filters</button>
      </form>
      <ErrorBox error={tasks.error} />
      <Table
        caption="Tasks, newest first"
        head={['Title', 'Status', 'Agent', 'Type', 'Attempts', 'Created', 'Actions']}
      >
        {rows.map((t) => (
          <tr key={t.id} data-task-id={t.id}>
            <th scope="row">
              <a href={`#/tasks/${t.id}`}>{t.title}</a>
            </th>
            <td>
              <Status status={t.status} />
              {awaitsApproval(t) ? <span class="tag">needs approval</span> : null}
            </td>
            <td>{t.agentSlug ?? 'system'}</td>
            <td>
              <code>{t.taskType}</code>
            </td>
            <td>
              {t.attemptCount}/{t.maxAttempts}
            </td>
            <td>{when(t.createdAt)}</td>
            <td>
              <TaskActions task={t} onDone={() => void tasks.reload()} />
            </td>
          </tr>
        ))}
      </Table>
      {rows.length === 0 && !tasks.loading ? <p>No tasks match.</p> : null}
      {nextCursor ? (
        <button
          type="button"
          onClick={async () => {
            const page = await call('tasks.list', { ...query, cursor: nextCursor });
            setMore([...more, ...page.items]);
            setCursor(page.nextCursor);
          }}
        >
          Load more
        </button>
      ) : null}
      <div class="two">
        <NewTaskForm agents={(agents.data?.items ?? []).map((a) => [a.slug, a.name])} />
        <RunWorkflowForm />
      </div>
    </section>
  );
}

function NewTaskForm({ agents }: { agents: Array<[string, string]> }) {
  const { notify } = useApp();
  const [form, setForm] = useState({ agent: '', taskType: 'agent.run', title: '', input: '{}', approval: false });
  const { busy, error, run } = useMutation();
  return (
    <form
      class="panel"
      aria-labelledby="new-task-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const created = await run(async () =>
          call('tasks.create', {
            ...(form.agent ? { agent: form.agent } : {}),
            taskType: form.taskType.trim(),
            title: form.title,
            input: parseJson(form.input, 'Input'),
            requiresApproval: form.approval,
          }),
        );
        if (created) {
          notify(`Task created: ${form.title}`);
          location.hash = `#/tasks/${created.tasks[0]?.id}`;
        }
      }}
    >
      <h2 id="new-task-title">Start a task</h2>
      <Select
        label="Agent"
        value={form.agent}
        onChange={(agent) => setForm({ ...form, agent })}
        options={[['', 'none (a system task)'], ...agents]}
      />
      <Field label="Task type" value={form.taskType} onInput={(taskType) => setForm({ ...form, taskType })} required />
      <Field label="Title" value={form.title} onInput={(title) => setForm({ ...form, title })} required />
      <Field
        label="Input (JSON object)"
        multiline
        value={form.input}
        onInput={(input) => setForm({ ...form, input })}
      />
      <Check
        label="Requires approval"
        checked={form.approval}
        onChange={(approval) => setForm({ ...form, approval })}
      />
      <button type="submit" disabled={busy}>
        Create task
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function RunWorkflowForm() {
  const { notify } = useApp();
  const workflows = useAction('workflows.list', {}, []);
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const { busy, error, run } = useMutation();
  const workflow = workflows.data?.items.find((w) => w.name === name) ?? workflows.data?.items[0];
  const fields = Object.entries(workflow?.definition.input ?? {});
  return (
    <form
      class="panel"
      aria-labelledby="run-workflow-title"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!workflow) return;
        const input: Record<string, unknown> = {};
        for (const [field, spec] of fields) {
          const raw = values[field] ?? '';
          if (raw === '') continue;
          input[field] = spec.type === 'number' ? Number(raw) : spec.type === 'boolean' ? raw === 'true' : raw;
        }
        const created = await run(() => call('workflows.run', { name: workflow.name, input }));
        if (created) {
          notify(`Workflow ${workflow.name} started`);
          location.hash = `#/tasks/${created.tasks[0]?.id}`;
        }
      }}
    >
      <h2 id="run-workflow-title">Run a workflow</h2>
      <ErrorBox error={workflows.error} />
      <Select
        label="Workflow"
        value={workflow?.name ?? ''}
        onChange={setName}
        options={(workflows.data?.items ?? []).map((w) => [w.name, `${w.name} (v${w.version})`])}
      />
      {workflow ? <p class="muted">{workflow.definition.description}</p> : null}
      {fields.map(([field, spec]) => (
        <Field
          key={`${workflow?.name}-${field}`}
          label={`${field}${spec.required ? ' (required)' : ''}`}
          hint={spec.type}
          value={values[field] ?? ''}
          required={spec.required}
          onInput={(v) => setValues({ ...values, [field]: v })}
        />
      ))}
      <button type="submit" disabled={busy || !workflow}>
        Run workflow
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
