import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite } from './database';
import { buildPgliteTemplate, isFreshDataDir, readPgliteTemplate } from './pglite-template';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ora-template-'));
  dirs.push(dir);
  return path.join(dir, 'pgdata');
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the PGlite initdb template', () => {
  it('is made by the install step, and a new data directory unpacked from it keeps what is written', async () => {
    const { file } = await buildPgliteTemplate(); // already there after `pnpm install`; made here otherwise
    expect(existsSync(file)).toBe(true);
    const dataDir = tempDir();
    expect(isFreshDataDir(dataDir)).toBe(true);
    let used = 0;
    const first = await openPglite(dataDir, () => {
      used += 1;
      return readPgliteTemplate();
    });
    expect(used).toBe(1);
    await first.exec('create table kept (v text); insert into kept values ($$written$$)');
    await first.close();

    expect(isFreshDataDir(dataDir)).toBe(false);
    const again = await openPglite(dataDir, () => {
      throw new Error('an existing directory must not read the template');
    });
    expect((await again.query<{ v: string }>('select v from kept')).rows).toEqual([{ v: 'written' }]);
    await again.close();
  }, 60_000);

  it('falls back to initdb when the template cannot be loaded, and discards it', async () => {
    const dataDir = tempDir();
    let discarded = 0;
    const pglite = await openPglite(
      dataDir,
      () => new Blob([Buffer.from('not a tarball')]),
      () => {
        discarded += 1;
      },
    );
    expect(discarded).toBe(1);
    expect((await pglite.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await pglite.close();
  }, 60_000);
});
