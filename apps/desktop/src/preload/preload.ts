/**
 * The preload: the one object the renderer gets (`window.ora`), exposed with contextBridge into
 * an isolated world. Two functions, no Node, no ipcRenderer: `call` can only invoke the one IPC
 * channel (the main process checks the call name, the sender and the input), `onEvent` only
 * listens on the event channel.
 */
import type { DesktopBridge, DesktopCallName, DesktopEvent } from '@ora/contracts';
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';

const CALL = 'ora:call';
const EVENT = 'ora:event';

const bridge = {
  async call(name: DesktopCallName, input?: unknown) {
    const result = (await ipcRenderer.invoke(CALL, name, input ?? {})) as
      | { ok: true; data: unknown }
      | { ok: false; error: { code: string; message: string } };
    if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
    return result.data as never;
  },
  onEvent(listener: (event: DesktopEvent) => void) {
    const handler = (_event: IpcRendererEvent, payload: DesktopEvent) => listener(payload);
    ipcRenderer.on(EVENT, handler);
    return () => {
      ipcRenderer.removeListener(EVENT, handler);
    };
  },
} satisfies DesktopBridge;

contextBridge.exposeInMainWorld('ora', bridge);
