import { type OraClient, OraClientError } from '@ora/client';
import {
  type ActionName,
  type DelegationPlan,
  type DesktopEvent,
  type LocalMessage,
  MemoryType,
  type ProposedPlan,
  type TaskStepInput,
  type TrackedTask,
} from '@ora/contracts';
import type { LocalStore } from './store';
import { isUnreachable } from './sync-engine';

// ---------------------------------------------------------------------------------------------
// Parsing

export type ParsedCommand =
  | { kind: 'task'; agent: string; instruction: string }
  | { kind: 'workflow'; name: string; input: Record<string, unknown> }
  | { kind: 'remember'; type: MemoryType; key: string; content: unknown }
  | { kind: 'forget'; target: string }
  | { kind: 'status' }
  | { kind: 'approve'; target: string | null }
  | { kind: 'cancel'; target: string | null }
  | { kind: 'sync' }
  | { kind: 'help' }
  | { kind: 'delegate'; request: string }
  | { kind: 'invalid'; message: string };

export const COMMAND_HELP = [
  '/task <agent> <instruction>: a task for one agent (writer, imager, seo, social, analyst)',
  '/workflow <name> [key=value ...] or /workflow <name> {json}: run a workflow',
  '/remember [type] <key> = <text>, or /remember <text>: keep a memory (synced)',
  '/forget <key or id>: delete a memory',
  '/status: sync, the outbox and the tasks in flight',
  '/approve [plan or task id]: approve the plan shown (or a task waiting for approval)',
  '/cancel [plan or task id]: reject the plan shown, or cancel a task',
  '/sync: sync now',
  'Anything else goes to ORA, who proposes a plan for you to approve.',
].join('\n');

/** Splits `key=value key2="two words"` pairs. */
function parsePairs(text: string): Record<string, unknown> | string {
  const input: Record<string, unknown> = {};
  const pattern = /\s*([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))/gy;
  let consumed = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? match[4] ?? '');
    input[match[1] as string] = /^-?\d+(\.\d+)?$/.test(value)
      ? Number(value)
      : value === 'true'
        ? true
        : value === 'false'
          ? false
          : value;
    consumed = pattern.lastIndex;
  }
  if (text.slice(consumed).trim() !== '')
    return `could not read "${text.slice(consumed).trim()}": use key=value pairs or a JSON object`;
  return input;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .split(/\s+/)
      .slice(0, 5)
      .join('_')
      .slice(0, 60) || 'note'
  );
}

/** Parses what the operator typed: a slash command, or free text for the planner. */
export function parseCommand(input: string): ParsedCommand {
  const text = input.trim();
  if (!text.startsWith('/')) return { kind: 'delegate', request: text };
  const space = text.search(/\s/);
  const name = (space === -1 ? text.slice(1) : text.slice(1, space)).toLowerCase();
  const rest = space === -1 ? '' : text.slice(space + 1).trim();
  switch (name) {
    case 'task': {
      const match = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (!match) return { kind: 'invalid', message: 'Usage: /task <agent> <instruction>' };
      return { kind: 'task', agent: (match[1] as string).toLowerCase(), instruction: (match[2] as string).trim() };
    }
    case 'workflow': {
      const match = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (!match) return { kind: 'invalid', message: 'Usage: /workflow <name> [key=value ...]' };
      const args = (match[2] as string).trim();
      if (args.startsWith('{')) {
        try {
          const parsed = JSON.parse(args) as unknown;
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
          return { kind: 'workflow', name: match[1] as string, input: parsed as Record<string, unknown> };
        } catch (error) {
          return { kind: 'invalid', message: `The workflow input is not a JSON object: ${(error as Error).message}` };
        }
      }
      const pairs = parsePairs(args);
      if (typeof pairs === 'string') return { kind: 'invalid', message: pairs };
      return { kind: 'workflow', name: match[1] as string, input: pairs };
    }
    case 'remember': {
      if (!rest) return { kind: 'invalid', message: 'Usage: /remember [type] <key> = <text>, or /remember <text>' };
      const typed = /^(\w+)\s+([\s\S]+)$/.exec(rest);
      let type: MemoryType = 'fact';
      let body = rest;
      if (typed && MemoryType.safeParse(typed[1]).success && /=/.test(typed[2] as string)) {
        type = typed[1] as MemoryType;
        body = typed[2] as string;
      }
      const pair = /^([^=\s][^=]{0,299}?)\s*=\s*([\s\S]+)$/.exec(body);
      if (pair) return { kind: 'remember', type, key: (pair[1] as string).trim(), content: (pair[2] as string).trim() };
      return { kind: 'remember', type, key: `note.${slug(body)}`, content: body };
    }
    case 'forget':
      return rest ? { kind: 'forget', target: rest } : { kind: 'invalid', message: 'Usage: /forget <key or id>' };
    case 'status':
      return { kind: 'status' };
    case 'approve':
      return { kind: 'approve', target: rest || null };
    case 'cancel':
      return { kind: 'cancel', target: rest || null };
    case 'sync':
      return { kind: 'sync' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'invalid', message: `Unknown command /${name}. ${COMMAND_HELP}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

export interface CommandRouterDeps {
  store: LocalStore;
  /** The server client now (null: not configured). */
  client: () => OraClient | null;
  /** Ask for a sync cycle soon (it flushes the commands too). */
  kick: () => void;
  syncNow: () => Promise<void>;
  emit: (event: DesktopEvent) => void;
  /** Describes the state for /status. */
  describeStatus: () => string;
  /** The server's base URL, for links to results. */
  serverUrl: () => string | null;
  /** How long ora.delegate may wait for the planner per call (ms); default 20 s. */
  planWaitMs?: number;
}

const RETRYABLE_CODES = new Set(['CONFLICT', 'RATE_LIMITED', 'INTERNAL_ERROR']);

/**
 * Turns what the operator types into local writes or server commands. Server commands go to the
 * command outbox first (each with a UUID that is also its Idempotency-Key) and are sent in order
 * when the server answers; a send that timed out is sent again with the same key, so the server
 * answers the repeat with the first answer: one task per command, never two.
 */
export class CommandRouter {
  readonly #deps: CommandRouterDeps;
  #flushing: Promise<void> | null = null;
  readonly #watching = new Set<string>();

  constructor(deps: CommandRouterDeps) {
    this.#deps = deps;
  }

  #say(conversationId: string, content: string, metadata: Record<string, unknown> = {}): LocalMessage {
    const message = this.#deps.store.appendMessage(conversationId, { role: 'assistant', content, metadata });
    this.#deps.emit({ type: 'message', message });
    return message;
  }

  /** What the operator sent: stored as their message, then handled. Returns the new messages. */
  async send(text: string, conversationId?: string): Promise<{ conversationId: string; messages: LocalMessage[] }> {
    const { store } = this.#deps;
    const conversation =
      (conversationId ? store.getConversation(conversationId) : null) ??
      store.createConversation({ ...(conversationId ? { id: conversationId } : {}), title: text.slice(0, 80) });
    const id = conversation.id;
    const before = new Set(store.listMessages(id, 1000).map((m) => m.id));
    const userMessage = store.appendMessage(id, { role: 'user', content: text });
    this.#deps.emit({ type: 'message', message: userMessage });
    await this.#handle(parseCommand(text), id);
    const messages = store.listMessages(id, 1000).filter((m) => !before.has(m.id));
    return { conversationId: id, messages };
  }

  async #handle(command: ParsedCommand, conversationId: string): Promise<void> {
    const { store } = this.#deps;
    switch (command.kind) {
      case 'invalid':
        this.#say(conversationId, command.message, { kind: 'error' });
        return;
      case 'help':
        this.#say(conversationId, COMMAND_HELP, { kind: 'help' });
        return;
      case 'status':
        this.#say(conversationId, this.#deps.describeStatus(), { kind: 'status' });
        return;
      case 'sync':
        try {
          await this.#deps.syncNow();
          this.#say(conversationId, 'Synced.', { kind: 'sync' });
        } catch (error) {
          this.#say(conversationId, `Sync failed: ${(error as Error).message}. Local changes are kept and retried.`, {
            kind: 'error',
          });
        }
        return;
      case 'remember': {
        const memory = store.upsertMemory({ type: command.type, key: command.key, content: command.content });
        this.#say(conversationId, `Remembered ${memory.type} "${memory.key}".`, {
          kind: 'memory',
          memoryId: memory.id,
        });
        this.#deps.emit({ type: 'memories' });
        return;
      }
      case 'forget': {
        const target =
          store.getMemory(command.target) ??
          MemoryType.options.map((t) => store.getMemoryByKey(t, command.target)).find((m) => m !== null) ??
          null;
        if (!target) {
          this.#say(conversationId, `No memory "${command.target}" here.`, { kind: 'error' });
          return;
        }
        store.deleteMemory(target.id);
        this.#say(conversationId, `Forgot ${target.type} "${target.key}".`, { kind: 'memory' });
        this.#deps.emit({ type: 'memories' });
        return;
      }
      case 'task':
        this.#queue(conversationId, 'tasks.create', {
          agent: command.agent,
          taskType: 'agent.run',
          title: command.instruction.length > 200 ? `${command.instruction.slice(0, 199)}…` : command.instruction,
          description: command.instruction,
          input: { instruction: command.instruction },
          source: 'desktop',
        });
        this.#say(conversationId, `Task for ${command.agent} queued.`, { kind: 'queued' });
        return;
      case 'workflow':
        this.#queue(conversationId, 'workflows.run', { name: command.name, input: command.input, source: 'desktop' });
        this.#say(conversationId, `Workflow ${command.name} queued.`, { kind: 'queued' });
        return;
      case 'delegate':
        this.#queue(conversationId, 'ora.delegate', {
          request: command.request,
          execute: false,
          context: { conversationId, from: 'desktop' },
          waitMs: this.#deps.planWaitMs ?? 20_000,
        });
        this.#say(conversationId, 'Asking ORA for a plan…', { kind: 'planning' });
        return;
      case 'approve':
      case 'cancel': {
        const approve = command.kind === 'approve';
        const plan = command.target
          ? store.getPlan(command.target)
          : (store.listPlans('proposed').find((p) => p.conversationId === conversationId) ??
            store.listPlans('proposed')[0] ??
            null);
        if (plan) {
          await this.decide(plan.id, approve);
          return;
        }
        if (!command.target) {
          this.#say(conversationId, `No plan waits for ${approve ? 'approval' : 'cancelling'}; give a task id.`, {
            kind: 'error',
          });
          return;
        }
        if (approve) this.#queue(conversationId, 'tasks.approve', { id: command.target, approved: true });
        else this.#queue(conversationId, 'tasks.cancel', { id: command.target, reason: 'cancelled from ORA desktop' });
        this.#say(conversationId, `${approve ? 'Approval' : 'Cancel'} of task ${command.target} queued.`, {
          kind: 'queued',
        });
        return;
      }
    }
  }

  /** Approves (creates its tasks) or rejects a proposed plan. */
  async decide(planId: string, approve: boolean): Promise<{ plan: ProposedPlan; messages: LocalMessage[] }> {
    const { store } = this.#deps;
    const plan = store.getPlan(planId);
    if (!plan) throw Object.assign(new Error(`No plan ${planId}`), { code: 'NOT_FOUND' });
    if (plan.status !== 'proposed') {
      throw Object.assign(new Error(`The plan was already ${plan.status}`), { code: 'CONFLICT' });
    }
    const before = new Set(store.listMessages(plan.conversationId, 1000).map((m) => m.id));
    const decided: ProposedPlan = { ...plan, status: approve ? 'approved' : 'rejected' };
    store.savePlan(decided);
    this.#markPlanMessage(decided);
    if (!approve) {
      this.#say(plan.conversationId, 'Plan rejected; nothing was created.', { kind: 'plan-rejected', planId });
    } else {
      const source = 'desktop' as const;
      if (plan.plan.kind === 'workflow') {
        this.#queue(
          plan.conversationId,
          'workflows.run',
          { name: plan.plan.workflow, input: plan.plan.input, source },
          { planId },
        );
      } else {
        const steps: TaskStepInput[] = plan.plan.steps.map((s) => ({
          ref: s.ref,
          ...(s.agent ? { agent: s.agent } : {}),
          taskType: s.taskType,
          title: s.title,
          ...(s.description ? { description: s.description } : {}),
          ...(s.input ? { input: s.input } : {}),
          ...(s.dependsOn ? { dependsOn: s.dependsOn } : {}),
        }));
        this.#queue(plan.conversationId, 'tasks.create', { steps, source }, { planId });
      }
      this.#say(plan.conversationId, 'Plan approved; creating its tasks…', { kind: 'plan-approved', planId });
    }
    const messages = store.listMessages(plan.conversationId, 1000).filter((m) => !before.has(m.id));
    return { plan: decided, messages };
  }

  #markPlanMessage(plan: ProposedPlan): void {
    const { store } = this.#deps;
    const message = store
      .listMessages(plan.conversationId, 1000)
      .find((m) => m.metadata.kind === 'plan' && m.metadata.planId === plan.id);
    if (!message) return;
    const updated = store.updateMessageMetadata(plan.conversationId, message.id, {
      ...message.metadata,
      status: plan.status,
    });
    if (updated) this.#deps.emit({ type: 'message', message: updated });
  }

  #queue(conversationId: string, action: ActionName, data: unknown, extra: Record<string, unknown> = {}): void {
    this.#deps.store.enqueueCommand({ conversationId, action, data: { action, data, ...extra } });
    this.#deps.kick();
  }

  /**
   * Sends the waiting commands in order. Stops at the first that cannot get an answer now (the
   * server unreachable, the first send still running there, a rate limit) and throws, so the
   * sync engine backs off and calls again; a command the server refuses for good (validation,
   * permission, not found) is marked failed and reported in the conversation.
   */
  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    const client = this.#deps.client();
    if (!client) return;
    for (const command of this.#deps.store.listCommands('pending')) {
      const { action, data, ...extra } = command.data as { action: ActionName; data: unknown } & Record<
        string,
        unknown
      >;
      let result: unknown;
      try {
        result = await client.call(action, data as never, { idempotencyKey: command.id });
      } catch (error) {
        const code = error instanceof OraClientError ? error.code : null;
        if (isUnreachable(error) || (code !== null && RETRYABLE_CODES.has(code)) || code === null) {
          this.#deps.store.markCommandAttempt(command.id, (error as Error).message);
          throw error;
        }
        this.#deps.store.finishCommand(command.id, { error: (error as Error).message });
        if (command.conversationId) {
          this.#say(command.conversationId, `The server refused ${action}: ${(error as Error).message}`, {
            kind: 'error',
            commandId: command.id,
          });
        }
        continue;
      }
      this.#deps.store.markCommandAttempt(command.id, null);
      this.#deps.store.finishCommand(command.id, { result });
      this.#answered(command.conversationId, action, data, result, extra);
    }
  }

  #answered(
    conversationId: string | null,
    action: ActionName,
    data: unknown,
    result: unknown,
    extra: Record<string, unknown>,
  ): void {
    const conversation = conversationId ?? this.#deps.store.createConversation({ title: 'ORA' }).id;
    if (action === 'ora.delegate') {
      const answer = result as {
        taskId: string;
        done: boolean;
        status: string;
        plan: DelegationPlan | null;
        summary: string | null;
        errorMessage: string | null;
        run: { cost: number } | null;
      };
      const request = (data as { request?: string }).request ?? '';
      if (answer.plan) {
        void this.#propose(conversation, request, answer.taskId, answer.plan, answer.summary, answer.run?.cost ?? null);
      } else if (!answer.done) {
        void this.#waitForPlan(conversation, request, answer.taskId);
      } else {
        this.#say(
          conversation,
          answer.summary ?? `ORA could not make a plan${answer.errorMessage ? `: ${answer.errorMessage}` : '.'}`,
          { kind: answer.errorMessage ? 'error' : 'reply', taskId: answer.taskId },
        );
      }
      return;
    }
    if (action === 'tasks.create' || action === 'workflows.run') {
      const created = result as { chainId: string; tasks: Array<Record<string, unknown>> };
      const tasks = created.tasks.map((t) => this.track(t, conversation));
      const names = tasks.map((t) => `${t.agentSlug ?? 'system'}: ${t.title}`).join('\n');
      this.#say(conversation, `Started ${tasks.length} task${tasks.length === 1 ? '' : 's'}:\n${names}`, {
        kind: 'tasks-created',
        chainId: created.chainId,
        taskIds: tasks.map((t) => t.id),
        ...(extra.planId ? { planId: extra.planId } : {}),
      });
      return;
    }
    if (action === 'tasks.approve' || action === 'tasks.cancel') {
      const task = this.track(result as Record<string, unknown>, conversation);
      this.#say(conversation, `Task "${task.title}" is ${task.status}.`, { kind: 'task-update', taskId: task.id });
    }
  }

  /** A task from the server (any of its shapes), kept and shown in the task panel. */
  track(task: Record<string, unknown>, conversationId: string | null): TrackedTask {
    const tracked = this.#deps.store.saveTask({
      id: task.id as string,
      chainId: (task.chainId as string | null) ?? null,
      title: (task.title as string) ?? '',
      taskType: (task.taskType as string) ?? '',
      agentSlug: (task.agentSlug as string | null) ?? null,
      status: (task.status as string) ?? 'pending',
      statusMessage: (task.statusMessage as string | null) ?? null,
      output: task.output ?? null,
      errorMessage: (task.errorMessage as string | null) ?? null,
      cost: (task.estimatedCost as number | null) ?? null,
      tokensUsed: (task.tokensUsed as number | null) ?? null,
      conversationId,
      updatedAt: (task.updatedAt as string) ?? new Date().toISOString(),
    });
    this.#deps.emit({ type: 'task', task: tracked });
    return tracked;
  }

  async #propose(
    conversationId: string,
    request: string,
    plannerTaskId: string | null,
    plan: DelegationPlan,
    summary: string | null,
    cost: number | null,
  ): Promise<void> {
    const preview = await this.#preview(plan);
    const proposed: ProposedPlan = {
      id: crypto.randomUUID(),
      conversationId,
      request,
      plannerTaskId,
      plan,
      preview,
      summary,
      estimatedCost: cost,
      status: 'proposed',
    };
    this.#deps.store.savePlan(proposed);
    const lines = preview.map(
      (s) => `• ${s.agent ?? 'system'}: ${s.title}${s.dependsOn.length ? ` (after ${s.dependsOn.join(', ')})` : ''}`,
    );
    const head = plan.kind === 'workflow' ? `Plan: run the ${plan.workflow} workflow` : `Plan: ${preview.length} steps`;
    this.#say(conversationId, [head, ...lines, summary ?? ''].filter(Boolean).join('\n'), {
      kind: 'plan',
      planId: proposed.id,
      status: 'proposed',
      plan,
      preview,
      estimatedCost: cost,
    });
    this.#deps.emit({
      type: 'notification',
      level: 'attention',
      title: 'A plan waits for your approval',
      body: head,
      taskId: plannerTaskId,
    });
  }

  /** The steps a plan would create, for the approval view (a workflow's from its definition). */
  async #preview(plan: DelegationPlan): Promise<ProposedPlan['preview']> {
    if (plan.kind === 'steps') {
      return plan.steps.map((s) => ({
        ref: s.ref,
        agent: s.agent ?? null,
        title: s.title,
        dependsOn: s.dependsOn ?? [],
      }));
    }
    try {
      const workflow = await this.#deps.client()?.call('workflows.get', { name: plan.workflow });
      if (!workflow) return [];
      return workflow.definition.steps.map((s) => ({
        ref: s.ref,
        agent: s.agent ?? null,
        title: s.title.replace(/\{\{\s*input\.([\w.]+)\s*\}\}/g, (_, k: string) => String(plan.input[k] ?? '')),
        dependsOn: s.dependsOn ?? [],
      }));
    } catch {
      return [];
    }
  }

  /** The planner is still thinking after the call returned: follow its task until it has a plan. */
  async #waitForPlan(conversationId: string, request: string, taskId: string): Promise<void> {
    if (this.#watching.has(taskId)) return;
    this.#watching.add(taskId);
    try {
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const client = this.#deps.client();
        if (!client) continue;
        let task: Awaited<ReturnType<OraClient['call']>>;
        try {
          task = await client.call('tasks.get', { id: taskId });
        } catch {
          continue;
        }
        const t = task as {
          status: string;
          output: { plan?: DelegationPlan; text?: string } | null;
          errorMessage: string | null;
        };
        if (['success', 'error', 'cancelled', 'expired'].includes(t.status)) {
          if (t.output?.plan) {
            const run = (task as { runs?: Array<{ cost: number }> }).runs?.at(-1);
            await this.#propose(
              conversationId,
              request,
              taskId,
              t.output.plan,
              t.output.text ?? null,
              run?.cost ?? null,
            );
          } else {
            this.#say(conversationId, t.output?.text ?? `ORA could not make a plan: ${t.errorMessage ?? t.status}`, {
              kind: 'error',
            });
          }
          return;
        }
      }
    } finally {
      this.#watching.delete(taskId);
    }
  }
}
