import type { ActionOutput, ApiKey } from '@ora/contracts';

type KeyWithSecret = ActionOutput<'keys.create'>;

import type { OptionSpecs } from '../args';
import type { Command, CommandContext } from '../command';
import { serverConfigured } from '../connection';
import { UsageError } from '../io';
import { table } from '../render';
import { createKeyLocally, keyRequest, listKeysLocally, revokeKeyLocally } from './local';

const local: OptionSpecs = {
  local: { type: 'boolean', description: "Work on this machine's database directly, not through a server" },
};

const howItDecides =
  'Through the API when a server is configured (--url/--key, ORA_URL/ORA_API_KEY or `ora login`); otherwise, or\n' +
  "with --local, directly on this machine's database (DATABASE_URL, else PGlite in ORA_DATA_DIR), which works\n" +
  'without a running server: use it for the first key. While `pnpm start` runs on PGlite, go through the API.';

/** Through the API, unless --local or no server is configured at all. */
function viaApi(ctx: CommandContext): boolean {
  if (ctx.values.local) return false;
  return serverConfigured(ctx.connection());
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const keysCreate: Command = {
  name: 'keys create',
  group: 'Server and keys (this machine)',
  summary: 'Create an API key and print its secret (shown once)',
  usage: '--name N [--scopes a,b] [--agent ID] [--expires ISO] [--per-minute N] [--per-day N] [--local]',
  options: {
    name: { type: 'string', placeholder: 'NAME' },
    scopes: {
      type: 'string',
      placeholder: 'a,b',
      description: '*, <domain>:read, <domain>:write or <domain>:* (default *)',
    },
    agent: {
      type: 'string',
      placeholder: 'ID',
      description: "Bind the key to an agent: it sees only that agent's data",
    },
    expires: { type: 'string', placeholder: 'ISO-TIME' },
    'per-minute': { type: 'string', placeholder: 'N', description: 'Rate limit per minute' },
    'per-day': { type: 'string', placeholder: 'N', description: 'Rate limit per day' },
    ...local,
  },
  details: howItDecides,
  async run(ctx) {
    const request = keyRequest(ctx);
    let created: KeyWithSecret;
    let where: string;
    if (viaApi(ctx)) {
      const connection = ctx.connection();
      created = await ctx
        .client()
        .call('keys.create', request, ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {});
      where = `on ${connection.url}`;
    } else {
      created = await createKeyLocally(ctx, request);
      where = 'in the local database';
    }
    if (ctx.json) return ctx.out(JSON.stringify(created, null, 2));
    ctx.note(
      `Created key ${created.key.id} "${created.key.name}" with scopes ${created.key.scopes.join(',')} ${where}. The secret is shown only now:`,
    );
    ctx.out(created.secret);
  },
};

function printKeys(ctx: CommandContext, keys: readonly ApiKey[]): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(keys, null, 2));
    return;
  }
  if (keys.length === 0) {
    ctx.out('No keys yet: `pnpm ora keys create --name NAME` makes one.');
    return;
  }
  ctx.out(
    table(keys, [
      { header: 'ID', value: (k) => k.id },
      { header: 'PREFIX', value: (k) => `${k.prefix}…` },
      { header: 'NAME', value: (k) => k.name, max: 30 },
      { header: 'SCOPES', value: (k) => k.scopes, max: 40 },
      {
        header: 'STATE',
        value: (k) =>
          k.revokedAt
            ? `revoked ${k.revokedAt.slice(0, 10)}`
            : k.expiresAt
              ? `expires ${k.expiresAt.slice(0, 10)}`
              : 'active',
      },
      { header: 'USED', value: (k) => k.totalRequests },
      { header: 'LAST USED', value: (k) => k.lastUsedAt },
    ]),
  );
}

const keysList: Command = {
  name: 'keys list',
  aliases: ['keys ls'],
  group: 'Server and keys (this machine)',
  summary: 'List keys, revoked ones too (never their secrets)',
  usage: '[--local]',
  options: local,
  details: howItDecides,
  async run(ctx) {
    if (!viaApi(ctx)) return printKeys(ctx, await listKeysLocally(ctx));
    const client = ctx.client();
    const keys: ApiKey[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.call('keys.list', { limit: 200, includeRevoked: true, ...(cursor ? { cursor } : {}) });
      keys.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && keys.length < 1000);
    printKeys(ctx, keys);
  },
};

const keysRevoke: Command = {
  name: 'keys revoke',
  group: 'Server and keys (this machine)',
  summary: 'Revoke a key: it stops working',
  usage: 'ID [--reason R] [--local]',
  options: { reason: { type: 'string', placeholder: 'TEXT' }, ...local },
  details: howItDecides,
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id || !uuid.test(id)) {
      throw new UsageError('keys revoke needs the key id (a UUID; `pnpm ora keys list` shows them)', 'keys revoke');
    }
    const reason = typeof ctx.values.reason === 'string' ? ctx.values.reason : undefined;
    const key = viaApi(ctx)
      ? await ctx
          .client()
          .call(
            'keys.revoke',
            { id, ...(reason ? { reason } : {}) },
            ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {},
          )
      : await revokeKeyLocally(ctx, id, reason);
    if (ctx.json) return ctx.out(JSON.stringify(key, null, 2));
    ctx.out(
      `Revoked ${key.id} (${key.name}). Running servers stop accepting it within 30 s, at once where Redis is configured.`,
    );
  },
};

export const keysCommands: Command[] = [keysCreate, keysList, keysRevoke];
