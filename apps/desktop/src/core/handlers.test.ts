import { afterAll, describe, expect, it } from 'vitest';
import { DesktopCore } from './desktop-core';
import { createHandlers, dispatch } from './handlers';

/** The bridge's handler map, as Electron's ipcMain and web mode call it, without Electron or a server. */
describe('the desktop handler map', () => {
  const core = new DesktopCore({ dbPath: ':memory:', liveEvents: false });
  const handlers = createHandlers(core);
  const events: string[] = [];
  core.onEvent((event) => events.push(event.type));
  afterAll(() => core.close());

  it('validates the call name and input, and answers with the API’s error codes', async () => {
    expect(await dispatch(handlers, 'shell.exec', {})).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_ERROR' },
    });
    expect(await dispatch(handlers, 42, {})).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    const bad = await dispatch(handlers, 'memory.upsert', { type: 'gossip', key: '' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    expect(bad.ok ? '' : bad.error.message).toMatch(/type|key/);
    const missing = await dispatch(handlers, 'conversations.messages', {
      conversationId: '00000000-0000-4000-8000-000000000000',
    });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await dispatch(handlers, 'app.configure', { serverUrl: 'ftp://x', apiKey: 'short' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_ERROR' },
    });
  });

  it('works offline without a server: memories are written, searched and queued for sync', async () => {
    const status = await dispatch(handlers, 'app.status', undefined);
    expect(status).toMatchObject({ ok: true, data: { configured: false, sync: 'unconfigured' } });
    const written = await dispatch(handlers, 'memory.upsert', {
      type: 'preference',
      key: 'operator.coffee',
      content: { drink: 'flat white', sugar: false },
    });
    expect(written).toMatchObject({ ok: true, data: { key: 'operator.coffee', pending: true, serverVersion: null } });
    const found = await dispatch(handlers, 'memory.search', { query: 'what coffee does the operator drink' });
    expect(found.ok && found.data.hits[0]?.memory.key).toBe('operator.coffee');
    expect(found.ok && found.data.hits[0]?.score.total).toBeGreaterThan(0);
    expect(events).toContain('memories');
    expect((await dispatch(handlers, 'app.status', {})).ok && core.status().pendingMutations).toBe(1);
  });

  it('runs slash commands locally and queues server commands in the outbox', async () => {
    const remembered = await dispatch(handlers, 'chat.send', { text: '/remember preference editor = helix' });
    expect(remembered.ok).toBe(true);
    if (!remembered.ok) return;
    expect(remembered.data.messages.map((m) => m.content)).toEqual([
      '/remember preference editor = helix',
      'Remembered preference "editor".',
    ]);
    expect(core.store.getMemoryByKey('preference', 'editor')?.content).toBe('helix');
    const conversationId = remembered.data.conversationId;

    const task = await dispatch(handlers, 'chat.send', { conversationId, text: '/task seo check the pricing page' });
    expect(task.ok && task.data.conversationId).toBe(conversationId);
    const commands = await dispatch(handlers, 'commands.list', {});
    expect(commands.ok && commands.data.items.map((c) => (c.data as { action: string }).action)).toEqual([
      'tasks.create',
    ]);

    const forgot = await dispatch(handlers, 'chat.send', { conversationId, text: '/forget editor' });
    expect(forgot.ok && forgot.data.messages.at(-1)?.content).toBe('Forgot preference "editor".');
    const unknown = await dispatch(handlers, 'chat.send', { conversationId, text: '/fly me to the moon' });
    expect(unknown.ok && unknown.data.messages.at(-1)?.content).toMatch(/^Unknown command \/fly/);
    const history = await dispatch(handlers, 'conversations.messages', { conversationId });
    expect(history.ok && history.data.items).toHaveLength(8);
  });
});
