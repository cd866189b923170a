/**
 * `pnpm --filter @ora/desktop web`: the desktop's UI in a normal browser, against the same core
 * under Node (development and tests; the app itself is Electron). Settings from the environment:
 * ORA_URL and ORA_KEY (else the UI asks), ORA_DESKTOP_DB (default ./.ora-desktop/desktop.sqlite),
 * ORA_DESKTOP_PORT (default 5174).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DesktopCore, MemoryCredentials } from '../core/desktop-core';
import { startWebMode } from './server';

const dbPath = path.resolve(process.env.ORA_DESKTOP_DB ?? '.ora-desktop/desktop.sqlite');
mkdirSync(path.dirname(dbPath), { recursive: true });
const url = process.env.ORA_URL;
const key = process.env.ORA_KEY;
const core = new DesktopCore({
  dbPath,
  credentials: new MemoryCredentials(url && key ? { serverUrl: url, apiKey: key } : null),
});
core.start();
const web = await startWebMode({ core, port: Number(process.env.ORA_DESKTOP_PORT ?? 5174) });
process.stdout.write(`ORA desktop (web mode) at ${web.url}\nlocal database: ${dbPath}\n`);
if (!url || !key) process.stdout.write('No ORA_URL/ORA_KEY set: enter the server and key in the page.\n');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void web
      .close()
      .then(() => core.close())
      .finally(() => process.exit(0));
  });
}
