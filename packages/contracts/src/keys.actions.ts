import { z } from 'zod';
import { action } from './action';
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

const Empty = z.object({}).strict();

/** The `keys.*` actions. */
export const keysActions = {
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
};
