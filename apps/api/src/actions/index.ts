import type { ActionName } from '@ora/contracts';
import type { ActionHandlers } from './context';
import { keysActions } from './keys.actions';

/** Every action of the catalogue in contracts has exactly one handler here (checked by the type). */
export const actionHandlers: ActionHandlers<ActionName> = {
  ...keysActions,
};
