import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OraClient } from '@ora/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../api/test/harness';
import { DesktopCore, MemoryCredentials } from '../src/core/desktop-core';
import { TestProxy } from './proxy';

/**
 * The desktop core under plain Node against a real ORA (embedded: PGlite) over real HTTP, with a
 * real TCP proxy in between that takes the network away or swallows answers.
 */
describe('the desktop core against a real server', () => {
  let server: TestServer;
  let root: OraClient;
  let dir: string;
  const proxies: TestProxy[] = [];
  const cores: DesktopCore[] = [];

  beforeAll(async () => {
    server = await startTestServer('embedded');
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    root = new OraClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: server.rootKey });
    dir = mkdtempSync(path.join(os.tmpdir(), 'ora-desktop-'));
  });
  afterAll(async () => {
    for (const core of cores) await core.close();
    for (const proxy of proxies) await proxy.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function desktop(
    name: string,
    options: { timeoutMs?: number; sync?: { backoffMs?: number; maxBackoffMs?: number; debounceMs?: number } } = {},
  ) {
    const { port } = server.app.server.address() as AddressInfo;
    const proxy = await TestProxy.start({ host: '127.0.0.1', port });
    proxies.push(proxy);
    const core = new DesktopCore({
      dbPath: path.join(dir, `${name}.sqlite`),
      credentials: new MemoryCredentials({ serverUrl: proxy.url, apiKey: server.rootKey }),
      timeoutMs: options.timeoutMs ?? 10_000,
      // Conflicts wait in the inbox for the operator (the server keeps its copy meanwhile).
      sync: { strategy: 'manual', intervalMs: 3_600_000, backoffMs: 60_000, ...options.sync },
      liveEvents: false,
    });
    cores.push(core);
    return { core, proxy, store: core.store };
  }

  /** Everything the server has, read with a fresh cursor. */
  async function serverState() {
    const memories = new Map<string, unknown>();
    const messages = new Map<string, string[]>();
    let cursor = '0';
    for (;;) {
      const page = await root.call('sync.pull', { cursor, limit: 1000 });
      for (const m of page.memories) memories.set(m.key, m.content);
      for (const t of page.tombstones)
        for (const [k, v] of memories) if ((v as { id?: string })?.id === t.id) memories.delete(k);
      for (const c of page.conversations) {
        messages.set(c.id, [...(messages.get(c.id) ?? []), ...c.messages.map((m) => m.content)]);
      }
      if (!page.hasMore || page.cursor === cursor) break;
      cursor = page.cursor;
    }
    return { memories, messages };
  }

  it('offline edits on two desktops converge with the server on reconnect; conflicts land in the inbox and resolve', async () => {
    const a = await desktop('a');
    const b = await desktop('b');

    // Both start from the same state.
    a.store.upsertMemory({ type: 'preference', key: 'operator.timezone', content: 'Europe/Paris' });
    a.store.upsertMemory({ type: 'fact', key: 'site.style', content: { tone: 'plain', length: 'short' } });
    const thread = a.store.createConversation({ title: 'Planning' });
    a.store.appendMessage(thread.id, { role: 'user', content: 'first, from A' });
    await a.core.engine.syncNow();
    await b.core.engine.syncNow();
    expect(b.store.getMemoryByKey('preference', 'operator.timezone')?.content).toBe('Europe/Paris');
    expect(b.store.listMessages(thread.id).map((m) => m.content)).toEqual(['first, from A']);

    // Offline, each desktop edits: the same memories on both (conflicts), others on one side only.
    a.proxy.down();
    b.proxy.down();
    a.store.upsertMemory({ type: 'preference', key: 'operator.timezone', content: 'Europe/Berlin' });
    b.store.upsertMemory({ type: 'preference', key: 'operator.timezone', content: 'America/New_York' });
    a.store.upsertMemory({ type: 'fact', key: 'site.style', content: { tone: 'warm', length: 'short' } });
    // B writes later: the merge settles a field both changed by updatedAt (the server wins a tie).
    await new Promise((resolve) => setTimeout(resolve, 5));
    b.store.upsertMemory({ type: 'fact', key: 'site.style', content: { tone: 'plain', length: 'long' } });
    a.store.upsertMemory({ type: 'fact', key: 'only.on.a', content: 'A wrote this offline' });
    b.store.upsertMemory({ type: 'fact', key: 'only.on.b', content: 'B wrote this offline' });
    a.store.appendMessage(thread.id, { role: 'user', content: 'second, from A offline' });
    b.store.appendMessage(thread.id, { role: 'user', content: 'third, from B offline' });

    await expect(a.core.engine.syncNow()).rejects.toThrow();
    await expect(b.core.engine.syncNow()).rejects.toThrow();
    expect(a.core.status()).toMatchObject({ sync: 'offline', online: false });
    // Nothing was dropped: every offline write waits in the outbox, and reads are local.
    expect(a.store.outboxSize()).toBe(4);
    expect(b.store.outboxSize()).toBe(4);
    expect(a.store.searchMemories('berlin timezone')[0]?.memory.key).toBe('operator.timezone');

    // Back online: A first, then B (whose two edits now conflict), then A again to catch up.
    a.proxy.up();
    b.proxy.up();
    await a.core.engine.syncNow();
    await b.core.engine.syncNow();
    await a.core.engine.syncNow();
    expect(a.store.outboxSize()).toBe(0);
    expect(b.store.outboxSize()).toBe(0);

    const inbox = b.store.listConflicts('pending');
    expect(inbox.map((c) => c.key).sort()).toEqual(['operator.timezone', 'site.style']);
    expect(b.core.status().conflicts).toBe(2);
    const tz = inbox.find((c) => c.key === 'operator.timezone') as (typeof inbox)[number];
    expect(tz).toMatchObject({ type: 'memory', status: 'pending', strategy: 'manual' });
    // Both versions are kept, side by side.
    expect((tz.localVersion.content as { content: unknown }).content).toBe('America/New_York');
    expect((tz.serverVersion.content as { content: unknown }).content).toBe('Europe/Berlin');

    // Converged: both desktops hold what the server holds (the server kept A's values meanwhile).
    let state = await serverState();
    for (const store of [a.store, b.store]) {
      expect(store.getMemoryByKey('preference', 'operator.timezone')?.content).toBe(
        state.memories.get('operator.timezone'),
      );
      expect(store.getMemoryByKey('fact', 'only.on.a')?.content).toBe('A wrote this offline');
      expect(store.getMemoryByKey('fact', 'only.on.b')?.content).toBe('B wrote this offline');
      expect(
        store
          .listMessages(thread.id)
          .map((m) => m.content)
          .sort(),
      ).toEqual(['first, from A', 'second, from A offline', 'third, from B offline'].sort());
    }
    expect(state.memories.get('operator.timezone')).toBe('Europe/Berlin');
    expect(a.store.listMessages(thread.id).map((m) => m.id)).toEqual(b.store.listMessages(thread.id).map((m) => m.id));

    // The operator settles them from B's inbox: keep mine for the timezone, merge the style.
    const kept = await b.core.engine.resolveConflict(tz.id, 'mine');
    expect(kept.status).toBe('resolved');
    const style = inbox.find((c) => c.key === 'site.style') as (typeof inbox)[number];
    const merged = await b.core.engine.resolveConflict(style.id, 'merge');
    expect(merged.status).toBe('resolved');
    await b.core.engine.syncNow();
    await a.core.engine.syncNow();

    state = await serverState();
    expect(state.memories.get('operator.timezone')).toBe('America/New_York');
    for (const store of [a.store, b.store]) {
      expect(store.getMemoryByKey('preference', 'operator.timezone')?.content).toBe('America/New_York');
      expect(store.getMemoryByKey('fact', 'site.style')?.content).toEqual(state.memories.get('site.style'));
    }
    // Merged field by field: nothing either side wrote is lost.
    const mergedStyle = state.memories.get('site.style') as { tone: string; length: string };
    expect(mergedStyle.length).toBe('long');
    expect(['warm', 'plain']).toContain(mergedStyle.tone);
    expect(b.store.listConflicts('pending')).toHaveLength(0);
    expect(b.core.status().conflicts).toBe(0);
  });

  it('a command issued offline creates exactly one task after reconnect, even when the first send timed out', async () => {
    const c = await desktop('c', { timeoutMs: 5000 });
    const before = (await root.call('tasks.list', { limit: 200 })).items.length;

    c.proxy.down();
    const sent = await c.core.router.send('/task writer Draft a short note about tides');
    expect(sent.messages.map((m) => m.content)).toContain('Task for writer queued.');
    expect(c.store.listCommands('pending')).toHaveLength(1);
    const [command] = c.store.listCommands('pending');
    await expect(c.core.engine.syncNow()).rejects.toThrow();
    expect(c.store.listCommands('pending')).toHaveLength(1);

    // The network returns, but the answer to tasks.create is lost: the server made the task, the
    // desktop timed out waiting.
    c.proxy.up();
    c.proxy.holdResponses(/POST \/api\/ora\/tasks\.create /);
    await expect(c.core.engine.syncNow()).rejects.toThrow(/timeout/i);
    expect(c.proxy.held).toBe(1);
    expect(c.store.listCommands('pending')).toHaveLength(1);
    expect(c.store.getCommand(command?.id as string)?.attempts).toBeGreaterThanOrEqual(1);
    const afterTimeout = (await root.call('tasks.list', { limit: 200 })).items;
    expect(afterTimeout.length).toBe(before + 1);

    // Answers get through again: the same command goes out with the same Idempotency-Key and the
    // server replays its first answer instead of making a second task.
    c.proxy.holdResponses(null);
    await c.core.engine.syncNow().catch(() => undefined);
    expect(c.store.listCommands('pending')).toHaveLength(0);
    expect(c.store.getCommand(command?.id as string)?.status).toBe('done');
    const tasks = (await root.call('tasks.list', { limit: 200 })).items;
    expect(tasks.length).toBe(before + 1);
    const task = tasks.find((t) => t.title === 'Draft a short note about tides');
    expect(task).toMatchObject({ source: 'desktop', agentSlug: 'writer' });
    expect(c.store.listTasks().map((t) => t.id)).toEqual([task?.id]);
    const conversation = c.store.listConversations()[0];
    expect(c.store.listMessages(conversation?.id as string).at(-1)?.content).toMatch(/Started 1 task/);
  });

  it('backs off exponentially while the server is unreachable, and syncs a write made offline once it is back', async () => {
    const d = await desktop('d', { sync: { backoffMs: 100, maxBackoffMs: 800, debounceMs: 20 } });
    d.proxy.down();
    // The wait planned after each failure (when the retry is due, seen at the moment it fails).
    const planned = new Map<number, number>();
    d.core.engine.onState((state) => {
      if (state.state === 'offline' && state.nextRetryAt && !planned.has(state.failures)) {
        planned.set(state.failures, Date.parse(state.nextRetryAt) - Date.now());
      }
    });
    d.core.engine.start();
    d.store.upsertMemory({ type: 'fact', key: 'written.while.down', content: 'kept' });
    await waitFor(() => planned.size >= 5, 15_000);
    expect(d.core.status()).toMatchObject({ sync: 'offline', pendingMutations: 1 });
    // 100 ms doubling per failure, capped at 800 ms, each ±20% (a few ms of slack for the clock).
    const expected = [100, 200, 400, 800, 800];
    expected.forEach((base, i) => {
      const wait = planned.get(i + 1) as number;
      expect(wait).toBeGreaterThanOrEqual(base * 0.8 - 5);
      expect(wait).toBeLessThanOrEqual(base * 1.2 + 5);
    });

    d.proxy.up();
    d.core.engine.reconnect();
    await waitFor(() => d.core.status().sync === 'idle', 10_000);
    expect(d.core.status()).toMatchObject({ online: true, pendingMutations: 0, lastError: null });
    expect((await serverState()).memories.get('written.while.down')).toBe('kept');
    await d.core.engine.stop();
  });
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
