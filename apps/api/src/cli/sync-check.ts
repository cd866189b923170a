import { readFile } from 'node:fs/promises';
import type { ActionInput, ActionOutput, SyncPulledConversation, SyncPulledMemory } from '@ora/contracts';
import { SyncSnapshot } from '@ora/contracts';
import { jsonEqual } from '@ora/sync-core';
import { type Command, stringOption } from './command';
import { UsageError } from './io';

/**
 * `ora sync check --snapshot <file> [--client-id ID]`: compares a client's replica (a snapshot
 * file, format `ora-sync-snapshot/1`: what `InMemorySyncStore.snapshot()` of @ora/client writes,
 * see `SyncSnapshot` in contracts and docs/sync.md) with what the server would give that client
 * now (everything `sync.pull` returns from cursor 0 for the key in use), and prints the
 * differences: rows missing from the replica, extra rows the server does not have (or has
 * deleted), and rows that differ. Exit code 1 when there is any difference, 0 when none.
 */

export interface SyncCheckCaller {
  call<A extends 'sync.pull' | 'sync.status'>(action: A, data: ActionInput<A>): Promise<ActionOutput<A>>;
}

export interface SyncDifference {
  kind: 'missing' | 'extra' | 'differs';
  type: 'memory' | 'conversation';
  id: string;
  /** What differs (field names), for `differs`. */
  fields?: string[];
  /** The server changed the row after the snapshot's cursor: a pull would bring it. */
  newerOnServer?: boolean;
  /** A human line. */
  text: string;
}

export interface SyncCheckReport {
  clientId: string;
  cursor: string;
  serverCursor: string;
  pendingMutations: number;
  compared: { memories: number; conversations: number };
  differences: SyncDifference[];
}

type ServerState = { memories: SyncPulledMemory[]; conversations: SyncPulledConversation[]; cursor: string };

/** Everything the server would give this key from cursor 0 (all pages), messages merged per conversation. */
export async function readServerState(caller: SyncCheckCaller, pageLimit = 1000): Promise<ServerState> {
  const memories = new Map<string, SyncPulledMemory>();
  const conversations = new Map<string, SyncPulledConversation>();
  let cursor = '0';
  for (;;) {
    const page = await caller.call('sync.pull', { cursor, limit: pageLimit });
    for (const m of page.memories) memories.set(m.id, m);
    for (const c of page.conversations) {
      const before = conversations.get(c.id);
      const messages = new Map((before?.messages ?? []).map((m) => [m.id, m]));
      for (const m of c.messages) messages.set(m.id, m);
      conversations.set(c.id, { ...c, messages: [...messages.values()] });
    }
    for (const t of page.tombstones) {
      if (t.type === 'memory') memories.delete(t.id);
      else conversations.delete(t.id);
    }
    cursor = page.cursor;
    if (!page.hasMore) return { memories: [...memories.values()], conversations: [...conversations.values()], cursor };
  }
}

const MEMORY_FIELDS = ['agentId', 'type', 'key', 'content', 'summary', 'importance', 'pinned', 'expiresAt'] as const;

const newer = (serverVersion: string, cursor: string) => BigInt(serverVersion) > BigInt(cursor);

/** The differences between a snapshot and the server's state (pure; `runSyncCheck` prints them). */
export function compareSnapshot(snapshotInput: SyncSnapshot, server: ServerState): SyncCheckReport {
  const snapshot = SyncSnapshot.parse(snapshotInput);
  const differences: SyncDifference[] = [];
  const localMemories = new Map(snapshot.memories.filter((m) => !m.localOnly).map((m) => [m.id, m]));
  const serverMemories = new Map(server.memories.map((m) => [m.id, m]));
  for (const s of server.memories) {
    const l = localMemories.get(s.id);
    const late = newer(s.serverVersion, snapshot.cursor);
    if (!l) {
      differences.push({
        kind: 'missing',
        type: 'memory',
        id: s.id,
        newerOnServer: late,
        text: `memory ${s.id} (${s.type}/${s.key}) is on the server, not in the replica${late ? ' (changed after its cursor)' : ''}`,
      });
      continue;
    }
    const fields = MEMORY_FIELDS.filter((f) =>
      f === 'expiresAt'
        ? (l.expiresAt === null ? null : Date.parse(l.expiresAt)) !==
          (s.expiresAt === null ? null : Date.parse(s.expiresAt))
        : !jsonEqual(l[f], s[f]),
    );
    if (fields.length > 0) {
      differences.push({
        kind: 'differs',
        type: 'memory',
        id: s.id,
        fields,
        newerOnServer: late,
        text: `memory ${s.id} (${s.type}/${s.key}) differs in ${fields.join(', ')}${late ? ' (changed after the replica’s cursor)' : ''}`,
      });
    }
  }
  for (const l of localMemories.values()) {
    if (!serverMemories.has(l.id)) {
      differences.push({
        kind: 'extra',
        type: 'memory',
        id: l.id,
        text: `memory ${l.id} (${l.type}/${l.key}) is in the replica, not (or no longer) on the server`,
      });
    }
  }

  const localConversations = new Map(snapshot.conversations.filter((c) => !c.localOnly).map((c) => [c.id, c]));
  const serverConversations = new Map(server.conversations.map((c) => [c.id, c]));
  for (const s of server.conversations) {
    const l = localConversations.get(s.id);
    const late = newer(s.serverVersion, snapshot.cursor);
    if (!l) {
      differences.push({
        kind: 'missing',
        type: 'conversation',
        id: s.id,
        newerOnServer: late,
        text: `conversation ${s.id} is on the server, not in the replica`,
      });
      continue;
    }
    const fields: string[] = [];
    if (l.title !== s.title) fields.push('title');
    if (l.status !== s.status) fields.push('status');
    if (l.agentId !== s.agentId) fields.push('agentId');
    const localMessages = new Map(l.messages.map((m) => [m.id, m.content]));
    const serverMessages = new Map(s.messages.map((m) => [m.id, m.content]));
    const missingMessages = [...serverMessages.keys()].filter((id) => !localMessages.has(id));
    const extraMessages = [...localMessages.keys()].filter((id) => !serverMessages.has(id));
    const changedMessages = [...serverMessages].filter(
      ([id, c]) => localMessages.has(id) && localMessages.get(id) !== c,
    );
    if (missingMessages.length || extraMessages.length || changedMessages.length) fields.push('messages');
    if (fields.length > 0) {
      const detail = fields.includes('messages')
        ? ` (messages: ${missingMessages.length} missing, ${extraMessages.length} extra, ${changedMessages.length} differing)`
        : '';
      differences.push({
        kind: 'differs',
        type: 'conversation',
        id: s.id,
        fields,
        newerOnServer: late,
        text: `conversation ${s.id} differs in ${fields.join(', ')}${detail}`,
      });
    }
  }
  for (const l of localConversations.values()) {
    if (!serverConversations.has(l.id)) {
      differences.push({
        kind: 'extra',
        type: 'conversation',
        id: l.id,
        text: `conversation ${l.id} is in the replica, not (or no longer) on the server`,
      });
    }
  }
  return {
    clientId: snapshot.clientId,
    cursor: snapshot.cursor,
    serverCursor: server.cursor,
    pendingMutations: snapshot.pendingMutations,
    compared: { memories: server.memories.length, conversations: server.conversations.length },
    differences,
  };
}

export interface SyncCheckOptions {
  snapshotPath: string;
  /** Checked against the snapshot's clientId; the server's record of that client is shown. */
  clientId?: string | undefined;
  json?: boolean;
}

/** Reads the snapshot, asks the server, prints the report; answers the exit code (1: differences). */
export async function runSyncCheck(
  caller: SyncCheckCaller,
  options: SyncCheckOptions,
  io: { out(text: string): void; note(text: string): void },
): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(options.snapshotPath, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the snapshot ${options.snapshotPath}: ${(error as Error).message}`, 'sync check');
  }
  const parsed = SyncSnapshot.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `${options.snapshotPath} is not a sync snapshot (format ora-sync-snapshot/1): ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      'sync check',
    );
  }
  const snapshot = parsed.data;
  if (options.clientId && options.clientId !== snapshot.clientId) {
    throw new UsageError(
      `--client-id ${options.clientId} does not match the snapshot's client ${snapshot.clientId}`,
      'sync check',
    );
  }
  const status = await caller.call('sync.status', { clientId: snapshot.clientId });
  const report = compareSnapshot(snapshot, await readServerState(caller));
  if (options.json) {
    io.out(JSON.stringify({ ...report, client: status.client }, null, 2));
    return report.differences.length > 0 ? 1 : 0;
  }
  io.note(
    `client ${snapshot.clientId}: replica cursor ${snapshot.cursor}, ${snapshot.pendingMutations} pending mutation(s); server at ${report.serverCursor}` +
      (status.client
        ? `, has taken its mutations up to ${status.client.lastMutationId}, last pull to ${status.client.lastPullCursor}`
        : ', has never seen this client'),
  );
  for (const d of report.differences) io.out(`${d.kind.padEnd(7)} ${d.text}`);
  const late = report.differences.filter((d) => d.newerOnServer).length;
  io.note(
    report.differences.length === 0
      ? `in sync: ${report.compared.memories} memories and ${report.compared.conversations} conversations match`
      : `${report.differences.length} difference(s)` +
          (late ? `, ${late} of them changed on the server after the replica's cursor (sync, then check again)` : '') +
          (snapshot.pendingMutations ? `; the replica still has ${snapshot.pendingMutations} mutation(s) to push` : ''),
  );
  return report.differences.length > 0 ? 1 : 0;
}

/** The `ora sync check` command for the CLI's command table. */
export const syncCheckCommand: Command = {
  name: 'sync check',
  group: 'Daily use',
  summary: 'Compare a client’s replica (a snapshot file) with the server; exit 1 on any difference',
  usage: '--snapshot FILE [--client-id ID]',
  options: {
    snapshot: { type: 'string', placeholder: 'FILE', description: 'A replica snapshot (format ora-sync-snapshot/1)' },
    'client-id': {
      type: 'string',
      placeholder: 'ID',
      description: 'Must match the snapshot’s client (a safety check)',
    },
  },
  details:
    'Reads what sync.pull gives this key from cursor 0 and lists rows missing from the replica, extra in it, or differing. See docs/sync.md.',
  async run(ctx) {
    const snapshotPath = stringOption(ctx, 'snapshot');
    if (!snapshotPath) throw new UsageError('sync check needs --snapshot FILE', 'sync check');
    return runSyncCheck(
      ctx.client(),
      { snapshotPath, clientId: stringOption(ctx, 'client-id'), json: ctx.json },
      { out: (t) => ctx.out(t), note: (t) => ctx.note(t) },
    );
  },
};
