import type {
  DesktopBridge,
  DesktopEvent,
  DesktopStatus,
  LocalMemory,
  LocalMessage,
  SyncConflict,
  TrackedTask,
} from '@ora/contracts';
import { connectBridge } from './bridge';

// The ORA desktop's UI: plain DOM, no framework. Everything it knows comes through the bridge
// (window.ora in Electron, HTTP in web mode); it holds no data of its own.

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | boolean | ((event: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false) element.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const bridge: DesktopBridge = connectBridge();
let conversationId: string | null = localStorage.getItem('ora.conversation');
const messages = new Map<string, LocalMessage>();
const tasks = new Map<string, TrackedTask>();

function toast(level: string, title: string, body: string): void {
  const item = h(
    'div',
    { class: `toast ${level}`, role: 'status', 'data-testid': 'toast' },
    h('strong', {}, title),
    h('p', {}, body),
  );
  const stack = $('#toasts');
  stack.append(item);
  // The newest few only: a finished chain of tasks should not cover the window.
  while (stack.children.length > 4) stack.firstElementChild?.remove();
  setTimeout(() => item.remove(), 6000);
}

function showError(error: unknown): void {
  toast('error', 'Something went wrong', (error as Error).message);
}

// ---------------------------------------------------------------------------------------------
// Status

function renderStatus(status: DesktopStatus): void {
  const pill = $('#sync-state');
  pill.textContent =
    status.sync === 'unconfigured'
      ? 'not connected'
      : status.sync === 'offline'
        ? 'offline (retrying)'
        : status.sync === 'error'
          ? 'sync error'
          : status.sync;
  pill.className = `pill ${status.sync}`;
  pill.title = status.lastError ?? (status.lastSyncAt ? `Last sync ${status.lastSyncAt}` : '');
  $('#pending').textContent = `${status.pendingMutations} changes · ${status.pendingCommands} commands waiting`;
  const inbox = $('#inbox-count');
  inbox.textContent = String(status.conflicts);
  inbox.hidden = status.conflicts === 0;
  if (!status.configured) ($('#settings') as HTMLDialogElement).showModal?.();
}

// ---------------------------------------------------------------------------------------------
// The conversation

function renderMessage(message: LocalMessage): HTMLElement {
  const meta = message.metadata as Record<string, unknown>;
  const kind = String(meta.kind ?? '');
  const body: Child[] = [h('div', { class: 'text' }, message.content)];
  if (kind === 'plan') {
    const preview = (meta.preview as Array<{ agent: string | null; title: string; dependsOn: string[] }>) ?? [];
    const status = String(meta.status ?? 'proposed');
    body.splice(
      0,
      1,
      h(
        'div',
        { class: 'plan', 'data-testid': 'plan' },
        h('strong', {}, message.content.split('\n')[0] ?? 'Plan'),
        h(
          'ol',
          { class: 'steps' },
          ...preview.map((s) =>
            h(
              'li',
              {},
              h('span', { class: 'agent' }, s.agent ?? 'system'),
              ` ${s.title}`,
              s.dependsOn.length ? h('small', {}, ` after ${s.dependsOn.join(', ')}`) : null,
            ),
          ),
        ),
        meta.estimatedCost !== null && meta.estimatedCost !== undefined
          ? h('p', { class: 'muted' }, `Planning cost $${Number(meta.estimatedCost).toFixed(4)}`)
          : null,
        status === 'proposed'
          ? h(
              'div',
              { class: 'actions' },
              h(
                'button',
                { class: 'primary', 'data-testid': 'approve-plan', onclick: () => decide(String(meta.planId), true) },
                'Approve',
              ),
              h(
                'button',
                { 'data-testid': 'reject-plan', onclick: () => decide(String(meta.planId), false) },
                'Reject',
              ),
            )
          : h('p', { class: `plan-status ${status}`, 'data-testid': 'plan-status' }, status),
      ),
    );
  }
  if (kind === 'result') {
    const links = (meta.links as Array<{ label: string; url: string }>) ?? [];
    body.push(
      h(
        'ul',
        { class: 'links' },
        ...links.map((l) =>
          h(
            'li',
            {},
            h(
              'a',
              { href: l.url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'result-link' },
              l.label,
            ),
          ),
        ),
      ),
    );
  }
  return h(
    'li',
    {
      class: `message ${message.role} ${kind}`,
      'data-id': message.id,
      'data-testid': `message-${message.role}`,
      'data-kind': kind,
    },
    ...body,
  );
}

function upsertMessage(message: LocalMessage): void {
  if (message.conversationId !== conversationId) return;
  messages.set(message.id, message);
  const list = $('#messages');
  const element = renderMessage(message);
  const existing = list.querySelector(`[data-id="${CSS.escape(message.id)}"]`);
  if (existing) existing.replaceWith(element);
  else list.append(element);
  list.scrollTop = list.scrollHeight;
}

async function loadConversation(): Promise<void> {
  $('#messages').replaceChildren();
  messages.clear();
  if (!conversationId) return;
  try {
    const { items } = await bridge.call('conversations.messages', { conversationId });
    for (const m of items) upsertMessage(m);
  } catch {
    conversationId = null;
    localStorage.removeItem('ora.conversation');
  }
}

async function send(text: string): Promise<void> {
  const result = await bridge.call('chat.send', { text, ...(conversationId ? { conversationId } : {}) });
  if (conversationId !== result.conversationId) {
    conversationId = result.conversationId;
    localStorage.setItem('ora.conversation', conversationId);
  }
  for (const m of result.messages) upsertMessage(m);
}

async function decide(planId: string, approve: boolean): Promise<void> {
  try {
    const result = await bridge.call('plans.decide', { planId, approve });
    for (const m of result.messages) upsertMessage(m);
    const { items } = await bridge.call('conversations.messages', { conversationId: result.plan.conversationId });
    for (const m of items) upsertMessage(m);
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Tasks

const STATUS_LABEL: Record<string, string> = {
  pending: 'waiting for its turn',
  queued: 'queued',
  running: 'running',
  waiting: 'needs you',
  success: 'done',
  error: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
};

function renderTasks(): void {
  const list = $('#task-list');
  const sorted = [...tasks.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  list.replaceChildren(
    ...sorted.map((t) =>
      h(
        'li',
        { class: `task ${t.status}`, 'data-testid': 'task', 'data-status': t.status, 'data-task-type': t.taskType },
        h('span', { class: 'agent' }, t.agentSlug ?? 'system'),
        h('span', { class: 'title' }, t.title),
        h('span', { class: `badge ${t.status}` }, STATUS_LABEL[t.status] ?? t.status),
        t.cost !== null ? h('small', { class: 'cost' }, `$${t.cost.toFixed(4)}`) : null,
        t.statusMessage && t.status !== 'success' ? h('small', { class: 'why' }, t.statusMessage) : null,
      ),
    ),
  );
  $('#tasks-empty').hidden = sorted.length > 0;
}

// ---------------------------------------------------------------------------------------------
// The conflict inbox

function pretty(value: unknown): string {
  const v = value as { content?: unknown } | null;
  return JSON.stringify(v && typeof v === 'object' && 'content' in v ? v.content : v, null, 2);
}

async function renderInbox(): Promise<void> {
  const { items } = await bridge.call('conflicts.list', { status: 'pending' });
  const list = $('#conflict-list');
  list.replaceChildren(
    ...items.map((c: SyncConflict) => {
      const editor = h('textarea', { class: 'edit', rows: '4', hidden: true }, pretty(c.localVersion.content));
      const resolve = async (keep: 'mine' | 'server' | 'merge' | 'edit') => {
        try {
          let value: unknown;
          if (keep === 'edit') {
            if (editor.hidden) {
              editor.hidden = false;
              return;
            }
            value = JSON.parse(editor.value);
          }
          await bridge.call('conflicts.resolve', { conflictId: c.id, keep, ...(keep === 'edit' ? { value } : {}) });
          toast('success', 'Conflict resolved', c.key ?? c.syncId);
          await renderInbox();
        } catch (error) {
          showError(error);
        }
      };
      return h(
        'li',
        { class: 'conflict', 'data-testid': 'conflict' },
        h('strong', {}, `${c.type} ${c.key ?? c.syncId}`),
        h(
          'div',
          { class: 'sides' },
          h('figure', {}, h('figcaption', {}, 'Mine'), h('pre', {}, pretty(c.localVersion.content))),
          h('figure', {}, h('figcaption', {}, 'Server'), h('pre', {}, pretty(c.serverVersion.content))),
        ),
        editor,
        h(
          'div',
          { class: 'actions' },
          h('button', { onclick: () => resolve('mine') }, 'Keep mine'),
          h('button', { onclick: () => resolve('server') }, 'Keep server'),
          h('button', { onclick: () => resolve('merge') }, 'Merge'),
          h('button', { onclick: () => resolve('edit') }, 'Edit'),
        ),
      );
    }),
  );
  $('#inbox-empty').hidden = items.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Memory

function renderMemories(items: Array<{ memory: LocalMemory; score?: { total: number } }>, note: string): void {
  $('#memory-note').textContent = note;
  $('#memory-list').replaceChildren(
    ...items.map(({ memory, score }) =>
      h(
        'li',
        { class: 'memory', 'data-testid': 'memory' },
        h('span', { class: 'key' }, `${memory.type} · ${memory.key}`),
        h(
          'span',
          { class: 'content' },
          typeof memory.content === 'string' ? memory.content : JSON.stringify(memory.content),
        ),
        score ? h('small', {}, score.total.toFixed(3)) : null,
        memory.pending ? h('small', { class: 'pending' }, 'not synced yet') : null,
      ),
    ),
  );
}

async function searchMemories(query: string): Promise<void> {
  if (!query.trim()) {
    const { items } = await bridge.call('memory.list', { limit: 30 });
    renderMemories(
      items.map((memory) => ({ memory })),
      `${items.length} recent`,
    );
    return;
  }
  const { hits, tookMs } = await bridge.call('memory.search', { query, limit: 20 });
  renderMemories(hits, `${hits.length} found in ${tookMs.toFixed(1)} ms`);
}

// ---------------------------------------------------------------------------------------------
// Events from the core

function onEvent(event: DesktopEvent): void {
  switch (event.type) {
    case 'status':
      renderStatus(event.status);
      return;
    case 'message':
      if (!conversationId) {
        conversationId = event.message.conversationId;
        localStorage.setItem('ora.conversation', conversationId);
      }
      upsertMessage(event.message);
      return;
    case 'task':
      tasks.set(event.task.id, event.task);
      renderTasks();
      return;
    case 'memories':
      void searchMemories(($('#memory-query') as HTMLInputElement).value);
      return;
    case 'conflicts':
      void renderInbox();
      return;
    case 'notification':
      toast(event.level, event.title, event.body);
      if ('Notification' in window && Notification.permission === 'granted' && document.hidden) {
        new Notification(event.title, { body: event.body });
      }
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  bridge.onEvent(onEvent);
  const composer = $('#composer') as HTMLFormElement;
  const input = $('#composer-input') as HTMLTextAreaElement;
  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    send(text).catch(showError);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  $('#sync-now').addEventListener('click', () => {
    bridge
      .call('sync.now', {})
      .then(renderStatus)
      .then(() => renderInbox())
      .catch(showError);
  });
  $('#new-thread').addEventListener('click', () => {
    conversationId = null;
    localStorage.removeItem('ora.conversation');
    void loadConversation();
  });
  $('#open-settings').addEventListener('click', () => ($('#settings') as HTMLDialogElement).showModal());
  $('#settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const serverUrl = ($('#server-url') as HTMLInputElement).value.trim();
    const apiKey = ($('#api-key') as HTMLInputElement).value.trim();
    bridge
      .call('app.configure', { serverUrl, apiKey })
      .then((status) => {
        renderStatus(status);
        ($('#settings') as HTMLDialogElement).close();
      })
      .catch(showError);
  });
  $('#notify').addEventListener('click', () => {
    if ('Notification' in window) void Notification.requestPermission();
  });
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  $('#memory-query').addEventListener('input', (event) => {
    clearTimeout(searchTimer);
    const query = (event.target as HTMLInputElement).value;
    searchTimer = setTimeout(() => void searchMemories(query).catch(showError), 120);
  });

  renderStatus(await bridge.call('app.status', {}));
  for (const task of (await bridge.call('tasks.list', {})).items) tasks.set(task.id, task);
  renderTasks();
  await loadConversation();
  await renderInbox();
  await searchMemories('');
  document.body.dataset.ready = 'true';
}

start().catch(showError);
