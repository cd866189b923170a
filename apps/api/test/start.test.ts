import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OraClient, OraClientError } from '@ora/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'ora-start-'));

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Servers started and not yet exited: a test that fails midway must not leave one behind. */
const running = new Set<ChildProcess>();

/** Runs `ora start` as a user would, on port 0, and waits for its "ready at" line. */
async function start(env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/cli.ts', 'start'], {
    cwd: root,
    env: { ...process.env, ORA_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    // A fresh PGlite start takes about 9 s here alone, several times that beside other suites.
    const timer = setTimeout(() => {
      clearInterval(poll);
      child.kill('SIGKILL'); // a start that is given up on must not outlive the test
      reject(new Error(`not ready within 40 s:\n${output}`));
    }, 40_000);
    const poll = setInterval(() => {
      const match = /ORA is ready at (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGTERM');
  return exited;
}

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('ora start (embedded)', () => {
  it('prints where it listens and a first key; the data and keys survive a restart', async () => {
    const first = await start();
    const secret = /(ora_sk_[0-9A-Za-z]{38})/.exec(first.output())?.[1];
    expect(secret, first.output()).toBeTruthy();
    const client = new OraClient({ baseUrl: first.url, apiKey: secret as string });
    const listed = await client.call('keys.list', {});
    expect(listed.items).toHaveLength(1);
    const created = await client.call('keys.create', { name: 'kept', scopes: ['keys:read'] });
    expect(await stop(first)).toBe(0);

    const second = await start();
    expect(second.output()).not.toMatch(/First start/);
    const again = new OraClient({ baseUrl: second.url, apiKey: secret as string });
    const names = (await again.call('keys.list', {})).items.map((k) => k.name);
    expect(names).toContain('kept');
    const narrow = new OraClient({ baseUrl: second.url, apiKey: created.secret });
    expect((await narrow.call('keys.whoami', {})).scopes).toEqual(['keys:read']);
    await expect(narrow.call('keys.create', { name: 'no' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      httpStatus: 403,
    });
    const ready = await fetch(`${second.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await stop(second)).toBe(0);
  }, 120_000);

  it('refuses a bad setting at start with a message naming the variable', async () => {
    await expect(start({ PORT: 'eighty' })).rejects.toThrow(/PORT/);
    await expect(start({ ORA_BOOTSTRAP_KEY: 'ora_sk_123' })).rejects.toThrow(/ORA_BOOTSTRAP_KEY/);
  });

  it('reports errors from the client with the server code and request id', async () => {
    const started = await start();
    const client = new OraClient({ baseUrl: started.url, apiKey: 'ora_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    const error = await client.call('keys.list', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OraClientError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
    expect((error as OraClientError).requestId).toMatch(/^req_/);
    await stop(started);
  }, 60_000);
});
