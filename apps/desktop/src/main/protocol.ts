import type { DesktopCallName, DesktopEvent } from '@ora/contracts';
import type { Credentials } from '../core/desktop-core';
import type { DispatchResult } from '../core/handlers';

/** Messages from the main process to the core host (the utility process). */
export type ToCoreHost =
  | { type: 'init'; dbPath: string; credentials: Credentials | null }
  | { type: 'call'; id: number; name: DesktopCallName; input: unknown }
  | { type: 'online' }
  | { type: 'shutdown' };

/** Messages from the core host to the main process. */
export type FromCoreHost =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: DispatchResult }
  | { type: 'event'; event: DesktopEvent };

/** The IPC channels between the preload and the main process. */
export const IPC = { call: 'ora:call', event: 'ora:event' } as const;
