import { OraClient } from '@ora/client';
import type { Command } from '../command';
import { keyHint, readConfigFile, writeConfigFile } from '../connection';
import { UsageError } from '../io';
import { fields } from '../render';

const login: Command = {
  name: 'login',
  group: 'Connection',
  summary: 'Check a server URL and key, then store them in the config file (mode 0600)',
  usage: '[--url URL] [--key KEY]   (without --key, the key is read from standard input)',
  details:
    'The config file is $ORA_CONFIG, else $XDG_CONFIG_HOME/ora/config.json, else ~/.config/ora/config.json.\n' +
    'Reading the key from standard input keeps it out of the shell history: `ora login --url URL < key.txt`.',
  async run(ctx) {
    const connection = ctx.connection();
    let apiKey = connection.keySource === 'flag' ? connection.apiKey : undefined;
    if (!apiKey) {
      if (ctx.io.stderr.isTTY) ctx.note(`Paste the API key for ${connection.url} and press Enter, then Ctrl-D:`);
      apiKey = (await ctx.io.readStdin()).trim();
    }
    if (!apiKey) throw new UsageError('ora login needs a key: --key ora_sk_..., or the key on standard input', 'login');
    const client = new OraClient({
      baseUrl: connection.url,
      apiKey,
      ...(ctx.io.fetch ? { fetch: ctx.io.fetch } : {}),
    });
    // The error handler explains a refused key or an absent server; nothing is written then.
    const whoami = await client.call('keys.whoami', {});
    const stored = readConfigFile(connection.configPath, ctx.io);
    writeConfigFile(connection.configPath, { ...stored, url: connection.url, apiKey });
    if (ctx.json)
      return ctx.out(JSON.stringify({ url: connection.url, configPath: connection.configPath, key: whoami }));
    ctx.out(
      `Logged in to ${connection.url} with key "${whoami.name}" (${keyHint(apiKey)}, scopes ${whoami.scopes.join(',')}).`,
    );
    ctx.note(`Stored in ${connection.configPath} (readable by you only). \`ora logout\` forgets the key.`);
  },
};

const logout: Command = {
  name: 'logout',
  group: 'Connection',
  summary: 'Remove the stored key from the config file (the key itself stays valid)',
  async run(ctx) {
    const path = ctx.connection().configPath;
    const stored = readConfigFile(path, ctx.io);
    if (!stored.apiKey) return ctx.out(`No key stored in ${path}.`);
    const { apiKey: _forgotten, ...rest } = stored;
    writeConfigFile(path, rest);
    ctx.out(`Removed the key from ${path}. To make it unusable everywhere: \`ora keys revoke ID\`.`);
  },
};

const whoami: Command = {
  name: 'whoami',
  group: 'Connection',
  summary: 'Which server and key the CLI uses, and where each setting came from',
  async run(ctx) {
    const connection = ctx.connection();
    const key = await ctx.client().call('keys.whoami', {});
    if (ctx.json) {
      return ctx.out(
        JSON.stringify(
          { url: connection.url, urlSource: connection.urlSource, keySource: connection.keySource, key },
          null,
          2,
        ),
      );
    }
    ctx.out(
      fields([
        ['server', `${connection.url} (from ${connection.urlSource})`],
        ['key', `${key.name}, ${keyHint(connection.apiKey ?? '')} (from ${connection.keySource})`],
        ['key id', key.keyId],
        ['scopes', key.scopes.join(', ')],
        ['agent', key.agentId ?? '(any)'],
        ['expires', key.expiresAt ?? 'never'],
        ['config file', connection.configPath],
      ]),
    );
  },
};

export const loginCommands: Command[] = [login, logout, whoami];
