import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OraClient } from '@ora/client';
import { z } from 'zod';
import { type CliIo, UsageError } from './io';

export const defaultUrl = 'http://127.0.0.1:8787';

/** `~/.config/ora/config.json`, written by `ora login` (mode 0600). */
export const ConfigFile = z.object({
  url: z.url({ protocol: /^https?$/ }).optional(),
  apiKey: z.string().min(1).optional(),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

export type Source = 'flag' | 'environment' | 'config file' | 'default';

export interface Connection {
  url: string;
  urlSource: Source;
  apiKey: string | undefined;
  keySource: Source | undefined;
  configPath: string;
}

/** Connection flags as given on the command line. */
export interface ConnectionFlags {
  url?: string | undefined;
  key?: string | undefined;
}

/** `$ORA_CONFIG`, else `$XDG_CONFIG_HOME/ora/config.json`, else `~/.config/ora/config.json`. */
export function configPath(env: CliIo['env']): string {
  if (env.ORA_CONFIG) return path.resolve(env.ORA_CONFIG);
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || env.USERPROFILE || '.', '.config');
  return path.join(base, 'ora', 'config.json');
}

export function readConfigFile(file: string, io: CliIo): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: ConfigFile;
  try {
    parsed = ConfigFile.parse(JSON.parse(text));
  } catch {
    throw new UsageError(
      `${file} is not an ORA config ({"url": "http://...", "apiKey": "ora_sk_..."}): fix it, or delete it and run \`ora login\``,
    );
  }
  // Like ssh with its keys: say so when others may read the file that holds the key.
  if (parsed.apiKey && process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    io.stderr.write(`Warning: ${file} holds an API key and others may read it: chmod 600 ${file}\n`);
  }
  return parsed;
}

/** Writes the config file readable by its owner only (atomically: a crash leaves the old one). */
export function writeConfigFile(file: string, content: ConfigFile): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

function checkUrl(url: string, source: Source): string {
  if (!/^https?:\/\/[^\s/]+/.test(url)) {
    const where = source === 'flag' ? '--url' : source === 'environment' ? 'ORA_URL' : 'the config file';
    throw new UsageError(`${where} must be the server's address, like ${defaultUrl}; got "${url}"`);
  }
  return url.replace(/\/+$/, '');
}

/** Server URL and key: flags, then ORA_URL / ORA_API_KEY, then the config file; each on its own. */
export function resolveConnection(flags: ConnectionFlags, io: CliIo): Connection {
  const file = configPath(io.env);
  const stored = readConfigFile(file, io);
  const url: [string, Source] = flags.url
    ? [flags.url, 'flag']
    : io.env.ORA_URL
      ? [io.env.ORA_URL, 'environment']
      : stored.url
        ? [stored.url, 'config file']
        : [defaultUrl, 'default'];
  const key: [string | undefined, Source | undefined] = flags.key
    ? [flags.key, 'flag']
    : io.env.ORA_API_KEY
      ? [io.env.ORA_API_KEY, 'environment']
      : stored.apiKey
        ? [stored.apiKey, 'config file']
        : [undefined, undefined];
  return { url: checkUrl(url[0], url[1]), urlSource: url[1], apiKey: key[0], keySource: key[1], configPath: file };
}

/** Is a server configured at all (any URL or key from flags, environment or config file)? */
export function serverConfigured(connection: Connection): boolean {
  return connection.urlSource !== 'default' || connection.keySource !== undefined;
}

export const howToGetAKey =
  'The first `pnpm start` prints a full-access key; `pnpm ora keys create --local --name cli` makes one on the ' +
  "server's machine. Then `ora login --key ora_sk_...` stores it, or set ORA_API_KEY, or pass --key.";

export function clientFor(connection: Connection, io: CliIo): OraClient {
  if (!connection.apiKey) throw new UsageError(`No API key for ${connection.url}. ${howToGetAKey}`, 'login');
  return new OraClient({
    baseUrl: connection.url,
    apiKey: connection.apiKey,
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
}

/** The display prefix (`ora_sk_` + 8), as `keys list` shows it: enough to recognise a key, never the secret. */
export function keyHint(apiKey: string): string {
  return `${apiKey.slice(0, 15)}…`;
}
