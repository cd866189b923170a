/**
 * The core in Electron: a utility process (Node, no window, no electron import needed) that owns
 * the SQLite store, the sync engine and the command router, behind the same handler map web mode
 * and the tests use. The main process forwards the preload's calls here and relays events back.
 */
import type {} from 'electron';
import { DesktopCore, MemoryCredentials } from '../core/desktop-core';
import { createHandlers, dispatch } from '../core/handlers';
import type { FromCoreHost, ToCoreHost } from './protocol';

let core: DesktopCore | null = null;
let handlers: ReturnType<typeof createHandlers> | null = null;

const post = (message: FromCoreHost) => process.parentPort.postMessage(message);

process.parentPort.on('message', async ({ data }) => {
  const message = data as ToCoreHost;
  switch (message.type) {
    case 'init': {
      core = new DesktopCore({ dbPath: message.dbPath, credentials: new MemoryCredentials(message.credentials) });
      handlers = createHandlers(core);
      core.onEvent((event) => post({ type: 'event', event }));
      core.start();
      post({ type: 'ready' });
      return;
    }
    case 'call': {
      const result = handlers
        ? await dispatch(handlers, message.name, message.input)
        : ({ ok: false, error: { code: 'INTERNAL_ERROR', message: 'The core is still starting' } } as const);
      post({ type: 'result', id: message.id, result });
      return;
    }
    case 'online':
      core?.engine.reconnect();
      return;
    case 'shutdown':
      await core?.close();
      process.exit(0);
  }
});
