import { OraClientError } from '@ora/client';
import {
  type DesktopCallName,
  type DesktopCallOutput,
  type DesktopHandlers,
  desktopCalls,
  type ErrorCode,
} from '@ora/contracts';
import type { DesktopCore } from './desktop-core';

/** The one handler map behind the bridge: Electron's ipcMain and web mode both dispatch to it. */
export function createHandlers(core: DesktopCore): DesktopHandlers {
  const { store } = core;
  return {
    'app.status': async () => core.status(),
    'app.configure': async (input) => core.configure(input),
    'memory.search': async (input) => {
      const started = performance.now();
      const hits = store.searchMemories(input.query, {
        limit: input.limit,
        ...(input.types ? { types: input.types } : {}),
      });
      return { hits, tookMs: Math.round((performance.now() - started) * 1000) / 1000 };
    },
    'memory.list': async (input) => ({ items: store.listMemories(input) }),
    'memory.upsert': async (input) => {
      if (input.id) {
        const existing = store.getMemory(input.id);
        if (!existing) throw new DesktopError('NOT_FOUND', `No memory ${input.id} here`);
      }
      const memory = store.upsertMemory({
        ...(input.id ? { id: input.id } : {}),
        type: input.type,
        key: input.key,
        content: input.content,
        ...(input.summary !== undefined ? { summary: input.summary } : {}),
        ...(input.importance !== undefined ? { importance: input.importance } : {}),
        ...(input.pinned !== undefined ? { pinned: input.pinned } : {}),
      });
      core.emit({ type: 'memories' });
      return memory;
    },
    'memory.delete': async (input) => {
      const deleted = store.deleteMemory(input.id);
      if (deleted) core.emit({ type: 'memories' });
      return { deleted };
    },
    'conversations.list': async () => ({ items: store.listConversations() }),
    'conversations.messages': async (input) => {
      if (!store.getConversation(input.conversationId)) {
        throw new DesktopError('NOT_FOUND', `No conversation ${input.conversationId} here`);
      }
      return { items: store.listMessages(input.conversationId, input.limit) };
    },
    'chat.send': async (input) => core.router.send(input.text, input.conversationId),
    'plans.list': async () => ({ items: store.listPlans() }),
    'plans.decide': async (input) => core.router.decide(input.planId, input.approve),
    'tasks.list': async () => ({ items: store.listTasks() }),
    'commands.list': async () => ({ items: store.listCommands() }),
    'conflicts.list': async (input) => ({ items: store.listConflicts(input.status) }),
    'conflicts.resolve': async (input) => {
      const conflict = await core.engine.resolveConflict(input.conflictId, input.keep, input.value);
      core.emit({ type: 'conflicts', pending: store.countPendingConflicts() });
      return conflict;
    },
    'sync.now': async () => {
      await core.engine.syncNow().catch(() => undefined);
      return core.status();
    },
  };
}

/** A refusal the UI shows as it is (bad input, an unknown id), with the API's error codes. */
export class DesktopError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DesktopError';
  }
}

export type DispatchResult<N extends DesktopCallName = DesktopCallName> =
  | { ok: true; data: DesktopCallOutput<N> }
  | { ok: false; error: { code: ErrorCode; message: string; details?: unknown } };

/**
 * Validates one call from the UI (its name and input, by the bridge's schemas) and runs its
 * handler. Never throws: an unknown call or bad input is VALIDATION_ERROR, a missing row
 * NOT_FOUND, a server refusal keeps the server's code, anything else INTERNAL_ERROR.
 */
export async function dispatch<N extends DesktopCallName>(
  handlers: DesktopHandlers,
  name: N,
  input: unknown,
): Promise<DispatchResult<N>>;
export async function dispatch(handlers: DesktopHandlers, name: unknown, input: unknown): Promise<DispatchResult>;
export async function dispatch(handlers: DesktopHandlers, name: unknown, input: unknown): Promise<DispatchResult> {
  if (typeof name !== 'string' || !Object.hasOwn(desktopCalls, name)) {
    return { ok: false, error: { code: 'VALIDATION_ERROR', message: `Unknown call ${JSON.stringify(name)}` } };
  }
  const call = name as DesktopCallName;
  const parsed = desktopCalls[call].input.safeParse(input ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      error: {
        code: 'VALIDATION_ERROR',
        message: `Bad input for ${call}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
        details: parsed.error.issues,
      },
    };
  }
  try {
    const handler = handlers[call] as (input: unknown) => Promise<unknown>;
    return { ok: true, data: (await handler(parsed.data)) as DesktopCallOutput<typeof call> };
  } catch (error) {
    if (error instanceof OraClientError) {
      return { ok: false, error: { code: error.code, message: error.message, details: error.details } };
    }
    const e = error as Error & { code?: string; details?: unknown };
    const known = ['VALIDATION_ERROR', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN'];
    if (e.code && known.includes(e.code)) {
      return { ok: false, error: { code: e.code as ErrorCode, message: e.message, details: e.details } };
    }
    return { ok: false, error: { code: 'INTERNAL_ERROR', message: e.message ?? String(error) } };
  }
}
