import { OraClient } from '@ora/client';
import type { DesktopEvent, DesktopStatus, OraEvent, SyncStrategy, TrackedTask } from '@ora/contracts';
import { CommandRouter } from './commands';
import { EventFeed } from './live';
import { LocalStore } from './store';
import { SyncEngine } from './sync-engine';

export interface Credentials {
  serverUrl: string;
  apiKey: string;
}

/**
 * Where the server URL and key are kept: Electron's safeStorage in the app, memory (or the
 * environment) in web mode and tests. The core never sees how.
 */
export interface CredentialStore {
  load(): Credentials | null;
  save(credentials: Credentials): void;
}

export class MemoryCredentials implements CredentialStore {
  #value: Credentials | null;
  constructor(initial: Credentials | null = null) {
    this.#value = initial;
  }
  load(): Credentials | null {
    return this.#value;
  }
  save(credentials: Credentials): void {
    this.#value = credentials;
  }
}

export interface DesktopCoreOptions {
  /** The SQLite file (":memory:" for a throwaway one). */
  dbPath: string;
  credentials?: CredentialStore;
  /** Per-call timeout of server calls; default 30 s. */
  timeoutMs?: number;
  sync?: {
    debounceMs?: number;
    intervalMs?: number;
    backoffMs?: number;
    maxBackoffMs?: number;
    strategy?: SyncStrategy;
  };
  /** How long ora.delegate waits for the planner per call. */
  planWaitMs?: number;
  /** Follow the server's live event stream (default true). */
  liveEvents?: boolean;
  clientId?: string;
}

const TERMINAL = new Set(['success', 'error', 'cancelled', 'expired']);

/**
 * The desktop's core, as one object: the local store, the sync engine, the command router and the
 * live task feed, with one stream of {@link DesktopEvent}s for the UI. Plain Node: the Electron
 * main process, web mode and the tests all run this same class.
 */
export class DesktopCore {
  readonly store: LocalStore;
  readonly engine: SyncEngine;
  readonly router: CommandRouter;
  readonly #credentials: CredentialStore;
  readonly #options: DesktopCoreOptions;
  readonly #listeners = new Set<(event: DesktopEvent) => void>();
  #feed: EventFeed | null = null;
  #started = false;
  readonly #publishedUrls = new Map<string, string>();

  constructor(options: DesktopCoreOptions) {
    this.#options = options;
    this.store = new LocalStore(options.dbPath, options.clientId ? { clientId: options.clientId } : {});
    this.#credentials = options.credentials ?? new MemoryCredentials();
    const credentials = this.#credentials.load();
    this.engine = new SyncEngine({
      store: this.store,
      client: credentials ? this.#clientFor(credentials) : null,
      ...options.sync,
      afterSync: async () => {
        await this.router.flush();
        await this.#refreshTasks();
      },
    });
    this.router = new CommandRouter({
      store: this.store,
      client: () => this.engine.client,
      kick: () => this.engine.schedule(0),
      syncNow: () => this.engine.syncNow(),
      emit: (event) => this.emit(event),
      describeStatus: () => this.describeStatus(),
      serverUrl: () => this.#credentials.load()?.serverUrl ?? null,
      ...(options.planWaitMs !== undefined ? { planWaitMs: options.planWaitMs } : {}),
    });
    this.engine.onState(() => this.emit({ type: 'status', status: this.status() }));
  }

  #clientFor(credentials: Credentials): OraClient {
    return new OraClient({
      baseUrl: credentials.serverUrl,
      apiKey: credentials.apiKey,
      timeoutMs: this.#options.timeoutMs ?? 30_000,
    });
  }

  onEvent(listener: (event: DesktopEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: DesktopEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed window) must not stop the others.
      }
    }
  }

  start(): void {
    this.#started = true;
    this.engine.start();
    this.#startFeed();
  }

  async close(): Promise<void> {
    this.#started = false;
    await this.#feed?.stop();
    await this.engine.stop();
    this.store.close();
  }

  /** A new server URL and key: kept by the credential store, used from the next call on. */
  configure(credentials: Credentials): DesktopStatus {
    this.#credentials.save(credentials);
    this.engine.setClient(this.#clientFor(credentials));
    void this.#feed?.stop();
    this.#feed = null;
    if (this.#started) this.#startFeed();
    return this.status();
  }

  status(): DesktopStatus {
    const state = this.engine.state;
    const credentials = this.#credentials.load();
    return {
      configured: credentials !== null,
      serverUrl: credentials?.serverUrl ?? null,
      online: state.online,
      sync: state.state,
      lastSyncAt: state.lastSyncAt,
      lastError: state.lastError,
      nextRetryAt: state.nextRetryAt,
      pendingMutations: this.store.outboxSize(),
      pendingCommands: this.store.listCommands('pending').length,
      conflicts: this.store.countPendingConflicts(),
      memories: this.store.countMemories(),
      clientId: this.store.clientId,
    };
  }

  describeStatus(): string {
    const s = this.status();
    const running = this.store.listTasks(50).filter((t) => !TERMINAL.has(t.status));
    return [
      `Sync: ${s.sync}${s.lastSyncAt ? ` (last ${s.lastSyncAt})` : ''}${s.lastError ? `: ${s.lastError}` : ''}`,
      `Server: ${s.serverUrl ?? 'not configured'}`,
      `Waiting to push: ${s.pendingMutations} changes, ${s.pendingCommands} commands`,
      `Conflicts in the inbox: ${s.conflicts}`,
      `Memories here: ${s.memories}`,
      `Tasks in flight: ${running.length ? running.map((t) => `${t.agentSlug ?? 'system'} ${t.title} (${t.status})`).join('; ') : 'none'}`,
    ].join('\n');
  }

  #startFeed(): void {
    const credentials = this.#credentials.load();
    if (!credentials || this.#options.liveEvents === false || this.#feed) return;
    this.#feed = new EventFeed({
      baseUrl: credentials.serverUrl,
      apiKey: credentials.apiKey,
      types: ['task.*', 'post.published'],
      after: this.store.getMeta('eventSeq'),
      onEvent: (event) => this.#onServerEvent(event),
      onState: (connected) => {
        if (connected) this.engine.reconnect();
      },
    });
    this.#feed.start();
  }

  #onServerEvent(event: OraEvent): void {
    this.store.setMeta('eventSeq', event.seq);
    const payload = (event.payload ?? {}) as Record<string, unknown>;
    if (event.type === 'post.published') {
      const url = (payload.url as string | null) ?? null;
      if (url) this.#publishedUrls.set(payload.postId as string, url);
      return;
    }
    const taskId = (payload.taskId as string) ?? event.taskId;
    if (!taskId) return;
    const known = this.store.getTask(taskId);
    const chainKnown =
      !known && payload.chainId ? this.store.listTasks(500).find((t) => t.chainId === payload.chainId) : undefined;
    if (!known && !chainKnown) return;
    const status = (payload.status as string) ?? known?.status ?? 'pending';
    const task = this.router.track(
      {
        ...(known ?? {}),
        id: taskId,
        chainId: (payload.chainId as string | null) ?? known?.chainId ?? null,
        title: (payload.title as string) ?? known?.title ?? '',
        taskType: (payload.taskType as string) ?? known?.taskType ?? '',
        agentSlug: known?.agentSlug ?? null,
        status,
        statusMessage:
          event.type === 'task.waiting'
            ? ((payload.reason as string) ?? null)
            : event.type === 'task.failed'
              ? ((payload.error as string) ?? null)
              : (known?.statusMessage ?? null),
        output: event.type === 'task.completed' ? (payload.output ?? null) : (known?.output ?? null),
        errorMessage:
          event.type === 'task.failed' ? ((payload.error as string) ?? null) : (known?.errorMessage ?? null),
        estimatedCost: known?.cost ?? null,
        tokensUsed: known?.tokensUsed ?? null,
        updatedAt: event.createdAt,
      },
      known?.conversationId ?? chainKnown?.conversationId ?? null,
    );
    if (event.type === 'task.completed') {
      this.#notify('success', `${task.agentSlug ?? 'ORA'} finished`, task.title, task.id);
      void this.#refreshTask(task.id);
    } else if (event.type === 'task.failed' && payload.willRetry === false) {
      this.#notify('error', `${task.agentSlug ?? 'ORA'} failed`, `${task.title}: ${payload.error ?? ''}`, task.id);
      this.#chainDone(task);
    } else if (event.type === 'task.waiting') {
      this.#notify('attention', 'A task waits for you', `${task.title}: ${payload.reason ?? ''}`, task.id);
    } else if (event.type === 'task.cancelled' || event.type === 'task.expired') {
      this.#chainDone(task);
    }
  }

  #notify(level: 'info' | 'success' | 'error' | 'attention', title: string, body: string, taskId: string | null) {
    this.emit({ type: 'notification', level, title, body, taskId });
  }

  /** Cost and tokens are not in the events: read the task once it is done. */
  async #refreshTask(id: string): Promise<void> {
    const client = this.engine.client;
    if (!client) return;
    try {
      const task = await client.call('tasks.get', { id });
      const known = this.store.getTask(id);
      const tracked = this.router.track(task as unknown as Record<string, unknown>, known?.conversationId ?? null);
      this.#chainDone(tracked);
    } catch {
      // The next sync cycle refreshes tasks in flight.
    }
  }

  /** Tasks still in flight, read again each sync cycle (events may have been missed while offline). */
  async #refreshTasks(): Promise<void> {
    const client = this.engine.client;
    if (!client) return;
    for (const task of this.store
      .listTasks(100)
      .filter((t) => !TERMINAL.has(t.status))
      .slice(0, 20)) {
      const fresh = await client.call('tasks.get', { id: task.id });
      if (fresh.status !== task.status) {
        const tracked = this.router.track(fresh as unknown as Record<string, unknown>, task.conversationId);
        if (TERMINAL.has(tracked.status)) this.#chainDone(tracked);
      }
    }
  }

  /** When every task of a chain is done, its results go into the conversation once. */
  #chainDone(task: TrackedTask): void {
    if (!task.chainId || !task.conversationId) return;
    const chain = this.store.listTasks(500).filter((t) => t.chainId === task.chainId);
    if (chain.some((t) => !TERMINAL.has(t.status))) return;
    const reported = `reported:${task.chainId}`;
    if (this.store.getMeta(reported)) return;
    this.store.setMeta(reported, '1');
    const server = this.#credentials.load()?.serverUrl?.replace(/\/+$/, '') ?? '';
    const links: Array<{ label: string; url: string }> = [];
    const lines: string[] = [];
    for (const t of chain.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))) {
      const mark = t.status === 'success' ? '✓' : '✗';
      lines.push(
        `${mark} ${t.agentSlug ?? 'system'}: ${t.title} (${t.status}${t.errorMessage ? `: ${t.errorMessage}` : ''})`,
      );
      const output = (t.output ?? {}) as Record<string, unknown>;
      if (typeof output.slug === 'string' && t.status === 'success') {
        const url =
          (typeof output.url === 'string' && output.url) ||
          this.#publishedUrls.get(output.postId as string) ||
          `${server}/posts/${output.slug}`;
        links.push({ label: 'Published post', url });
      }
      const mediaId = (output.mediaId ?? (output.media as { id?: string } | undefined)?.id) as string | undefined;
      if (mediaId && t.status === 'success') links.push({ label: 'Image', url: `${server}/media/${mediaId}` });
    }
    const ok = chain.every((t) => t.status === 'success');
    const message = this.store.appendMessage(task.conversationId, {
      role: 'assistant',
      content: [ok ? 'Done.' : 'Finished with problems.', ...lines, ...links.map((l) => `${l.label}: ${l.url}`)].join(
        '\n',
      ),
      metadata: { kind: 'result', chainId: task.chainId, ok, links },
    });
    this.emit({ type: 'message', message });
    this.#notify(
      ok ? 'success' : 'error',
      ok ? 'Work finished' : 'Work finished with problems',
      lines.join('\n'),
      task.id,
    );
  }
}
