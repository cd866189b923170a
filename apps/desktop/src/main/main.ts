/**
 * The Electron main process: windows, security and the OS (tray, notifications, safeStorage). The
 * core (store, sync, commands) runs in a utility process (core-host.ts); the renderer reaches it
 * only through the preload's two functions and the one IPC channel checked here.
 *
 * Bundled to dist/app/main.cjs by `pnpm --filter @ora/desktop build` (see build.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DesktopEvent, type DesktopStatus, desktopCalls } from '@ora/contracts';
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  Notification,
  nativeImage,
  net,
  powerMonitor,
  protocol,
  safeStorage,
  session,
  shell,
  Tray,
  type UtilityProcess,
  utilityProcess,
} from 'electron';
import type { Credentials } from '../core/desktop-core';
import type { DispatchResult } from '../core/handlers';
import { rendererCsp } from '../renderer/page';
import { type FromCoreHost, IPC, type ToCoreHost } from './protocol';

const ORIGIN = 'app://ora';
const rendererDir = path.join(__dirname, 'renderer');

protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } },
]);

// ---------------------------------------------------------------------------------------------
// The server URL and key, encrypted with the OS keychain (safeStorage)

const credentialsFile = () => path.join(app.getPath('userData'), 'credentials.bin');

function loadCredentials(): Credentials | null {
  try {
    if (!existsSync(credentialsFile()) || !safeStorage.isEncryptionAvailable()) return null;
    return JSON.parse(safeStorage.decryptString(readFileSync(credentialsFile()))) as Credentials;
  } catch {
    return null;
  }
}

/** Stores them encrypted; where the OS offers no encryption they are kept for this session only. */
function saveCredentials(credentials: Credentials): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  mkdirSync(path.dirname(credentialsFile()), { recursive: true });
  writeFileSync(credentialsFile(), safeStorage.encryptString(JSON.stringify(credentials)), { mode: 0o600 });
  return true;
}

// ---------------------------------------------------------------------------------------------
// The core host

let host: UtilityProcess | null = null;
let window: BrowserWindow | null = null;
let tray: Tray | null = null;
let nextId = 1;
const waiting = new Map<number, (result: DispatchResult) => void>();

function send(message: ToCoreHost): void {
  host?.postMessage(message);
}

function startCoreHost(): void {
  host = utilityProcess.fork(path.join(__dirname, 'core-host.cjs'), [], { serviceName: 'ORA core' });
  host.on('message', (message: FromCoreHost) => {
    if (message.type === 'result') {
      waiting.get(message.id)?.(message.result);
      waiting.delete(message.id);
    } else if (message.type === 'event') {
      onCoreEvent(message.event);
    }
  });
  host.on('exit', (code) => {
    for (const resolve of waiting.values()) {
      resolve({ ok: false, error: { code: 'INTERNAL_ERROR', message: `The core stopped (exit ${code})` } });
    }
    waiting.clear();
    if (!quitting) startCoreHost();
  });
  const dbPath = path.join(app.getPath('userData'), 'ora.sqlite');
  send({ type: 'init', dbPath, credentials: loadCredentials() });
}

function callCore(name: string, input: unknown): Promise<DispatchResult> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    send({ type: 'call', id, name: name as never, input });
  });
}

function onCoreEvent(event: DesktopEvent): void {
  window?.webContents.send(IPC.event, event);
  if (event.type === 'status') updateTray(event.status);
  if (event.type === 'notification' && Notification.isSupported()) {
    const notification = new Notification({ title: event.title, body: event.body, silent: event.level === 'info' });
    notification.on('click', () => showWindow());
    notification.show();
  }
}

// ---------------------------------------------------------------------------------------------
// The tray: a dot in the sync state's colour, and the state in its menu

const TRAY_COLOURS: Record<DesktopStatus['sync'], [number, number, number]> = {
  idle: [47, 158, 68],
  syncing: [59, 91, 219],
  offline: [230, 119, 0],
  error: [201, 42, 42],
  unconfigured: [134, 142, 150],
};

function dot([r, g, b]: [number, number, number]): Electron.NativeImage {
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - 7.5) ** 2 + (y - 7.5) ** 2 <= 36;
      const i = (y * size + x) * 4;
      // BGRA, as createFromBitmap takes it.
      pixels.set(inside ? [b, g, r, 255] : [0, 0, 0, 0], i);
    }
  }
  return nativeImage.createFromBitmap(pixels, { width: size, height: size });
}

function updateTray(status: DesktopStatus): void {
  if (!tray) return;
  tray.setImage(dot(TRAY_COLOURS[status.sync]));
  const line =
    status.sync === 'idle'
      ? `Synced${status.lastSyncAt ? ` at ${new Date(status.lastSyncAt).toLocaleTimeString()}` : ''}`
      : status.sync === 'offline'
        ? 'Offline: changes wait and are retried'
        : status.sync === 'error'
          ? `Sync error: ${status.lastError ?? ''}`
          : status.sync === 'unconfigured'
            ? 'Not connected to a server'
            : 'Syncing…';
  tray.setToolTip(`ORA: ${line}`);
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: line, enabled: false },
      {
        label: `${status.pendingMutations} changes, ${status.pendingCommands} commands waiting`,
        enabled: false,
      },
      { label: `${status.conflicts} conflicts to decide`, enabled: false, visible: status.conflicts > 0 },
      { type: 'separator' },
      { label: 'Sync now', click: () => void callCore('sync.now', {}) },
      { label: 'Show ORA', click: () => showWindow() },
      { type: 'separator' },
      { label: 'Quit', role: 'quit' },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// The window

function showWindow(): void {
  if (!window || window.isDestroyed()) createWindow();
  window?.show();
  window?.focus();
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1200,
    height: 800,
    title: 'ORA',
    show: false,
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: true,
    },
  });
  window.once('ready-to-show', () => window?.show());
  void window.loadURL(`${ORIGIN}/index.html`);
}

/** The renderer's files, from dist/app/renderer only, with the CSP as a header too. */
function serveRenderer(): void {
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
  };
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    const file = path.normalize(path.join(rendererDir, decodeURIComponent(url.pathname)));
    if (url.host !== 'ora' || !file.startsWith(rendererDir + path.sep) || !existsSync(file)) {
      return new Response('not found', { status: 404 });
    }
    const response = await net.fetch(pathToFileURL(file).toString());
    return new Response(await response.arrayBuffer(), {
      headers: {
        'content-type': types[path.extname(file)] ?? 'application/octet-stream',
        'content-security-policy': rendererCsp('electron', { header: true }),
        'x-content-type-options': 'nosniff',
      },
    });
  });
}

/** No navigation, no new windows (links open in the browser), no webviews, no permissions. */
function lockDown(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (/^https?:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

ipcMain.handle(IPC.call, async (event, name: unknown, input: unknown): Promise<DispatchResult> => {
  const frame = event.senderFrame;
  if (!frame || new URL(frame.url).origin !== ORIGIN) {
    return { ok: false, error: { code: 'FORBIDDEN', message: 'Calls come only from ORA’s own page' } };
  }
  if (typeof name !== 'string' || !Object.hasOwn(desktopCalls, name)) {
    return { ok: false, error: { code: 'VALIDATION_ERROR', message: `Unknown call ${String(name)}` } };
  }
  if (name === 'app.configure') {
    // The key is kept here, encrypted; the core gets it in memory.
    const parsed = desktopCalls['app.configure'].input.safeParse(input);
    if (parsed.success && !saveCredentials(parsed.data)) {
      onCoreEvent({
        type: 'notification',
        level: 'attention',
        title: 'The key is kept for this session only',
        body: 'This system offers no encrypted storage (safeStorage); you will be asked again next time.',
        taskId: null,
      });
    }
  }
  return callCore(name, input);
});

let quitting = false;
let wasOnline = true;

app.whenReady().then(() => {
  lockDown();
  serveRenderer();
  startCoreHost();
  createWindow();
  tray = new Tray(dot(TRAY_COLOURS.unconfigured));
  tray.on('click', () => showWindow());
  updateTray({
    configured: false,
    serverUrl: null,
    online: false,
    sync: 'unconfigured',
    lastSyncAt: null,
    lastError: null,
    nextRetryAt: null,
    pendingMutations: 0,
    pendingCommands: 0,
    conflicts: 0,
    memories: 0,
    clientId: '',
  });
  // Back from sleep, or the network is back: sync now instead of waiting out the backoff.
  powerMonitor.on('resume', () => send({ type: 'online' }));
  setInterval(() => {
    const online = net.isOnline();
    if (online && !wasOnline) send({ type: 'online' });
    wasOnline = online;
  }, 5000).unref();
});

app.on('window-all-closed', () => {
  // The tray keeps ORA running (and syncing) with no window open.
});

app.on('before-quit', () => {
  quitting = true;
  send({ type: 'shutdown' });
});

app.on('activate', () => showWindow());
