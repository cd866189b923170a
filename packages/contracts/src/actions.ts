import { z } from 'zod';
import {
  ApiKey,
  KeysCreateInput,
  KeysGetInput,
  KeysListInput,
  KeysListOutput,
  KeysRevokeInput,
  KeysRotateInput,
  KeysRotateOutput,
  KeysUpdateInput,
  KeyWithSecret,
  WhoAmIOutput,
} from './keys';

/**
 * One action of `POST /api/ora`: its schemas, the scope a key needs (null: any valid key),
 * whether it changes state (mutations are audited and accept an Idempotency-Key), and which
 * rate-limit bucket it counts against.
 */
export interface ActionDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  summary: string;
  scope: string | null;
  mutates: boolean;
  limitGroup: 'default' | 'sync';
  input: I;
  output: O;
}

function action<I extends z.ZodType, O extends z.ZodType>(
  def: Omit<ActionDefinition<I, O>, 'limitGroup'> & { limitGroup?: 'default' | 'sync' },
): ActionDefinition<I, O> {
  return { limitGroup: 'default', ...def };
}

const Empty = z.object({}).strict();

export const actions = {
  'keys.whoami': action({
    summary: 'The key making this call: its id, scopes and binding',
    scope: null,
    mutates: false,
    input: Empty,
    output: WhoAmIOutput,
  }),
  'keys.list': action({
    summary: 'List API keys (never their secrets), newest first',
    scope: 'keys:read',
    mutates: false,
    input: KeysListInput,
    output: KeysListOutput,
  }),
  'keys.get': action({
    summary: 'One API key, with its usage',
    scope: 'keys:read',
    mutates: false,
    input: KeysGetInput,
    output: ApiKey,
  }),
  'keys.create': action({
    summary: 'Create an API key; the secret is in this answer only',
    scope: 'keys:write',
    mutates: true,
    input: KeysCreateInput,
    output: KeyWithSecret,
  }),
  'keys.update': action({
    summary: "Change a key's name, scopes, allowlist, limits or expiry",
    scope: 'keys:write',
    mutates: true,
    input: KeysUpdateInput,
    output: ApiKey,
  }),
  'keys.revoke': action({
    summary: 'Revoke a key: it stops working at once',
    scope: 'keys:write',
    mutates: true,
    input: KeysRevokeInput,
    output: ApiKey,
  }),
  'keys.rotate': action({
    summary: 'Issue a new secret with the same settings and retire the old key',
    scope: 'keys:write',
    mutates: true,
    input: KeysRotateInput,
    output: KeysRotateOutput,
  }),
} satisfies Record<string, ActionDefinition>;

export type Actions = typeof actions;
export type ActionName = keyof Actions;
export type ActionInput<A extends ActionName> = z.input<Actions[A]['input']>;
export type ActionOutput<A extends ActionName> = z.output<Actions[A]['output']>;
export type ActionData<A extends ActionName> = z.output<Actions[A]['input']>;

export const actionNames = Object.keys(actions) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(actions, name);
}
