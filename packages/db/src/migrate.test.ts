import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrations } from '../migrations/index';

describe('the migration list', () => {
  it('names every migration file in the folder (Kysely runs them sorted by name)', () => {
    const folder = fileURLToPath(new URL('../migrations', import.meta.url));
    const files = readdirSync(folder)
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
      .map((f) => f.slice(0, -3))
      .sort();
    expect(Object.keys(migrations).sort()).toEqual(files);
  });
});
