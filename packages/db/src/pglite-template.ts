import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

/**
 * A fresh PGlite database starts with initdb, which takes about 4 s here (most of a first
 * `pnpm start`). Its result depends only on the PGlite build, so it is made once, by the install
 * step (`pnpm install` runs `scripts/pglite-template.ts`), and kept as a tarball under
 * node_modules/.cache; every new database (a fresh ORA_DATA_DIR, an in-memory test database) is
 * unpacked from it in about a second instead. Without the tarball (install scripts skipped), initdb
 * runs as before.
 */

/** The package folder (the nearest package.json named `name`) of a module's entry file. */
function packageDir(entry: string, name: string): string {
  let dir = path.dirname(entry);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package folder of ${name}`);
    dir = parent;
  }
}

function versionOf(name: string): string {
  const dir = packageDir(createRequire(import.meta.url).resolve(name), name);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

let templatePath: string | undefined;

/** Where the template of the installed PGlite and pgvector builds lives (found once per process). */
export function pgliteTemplatePath(): string {
  templatePath ??= findTemplatePath();
  return templatePath;
}

function findTemplatePath(): string {
  const ownDir = packageDir(fileURLToPath(import.meta.url), '@ora/db');
  const key = `pglite-${versionOf('@electric-sql/pglite')}-pgvector-${versionOf('@electric-sql/pglite-pgvector')}`;
  return path.join(ownDir, 'node_modules', '.cache', 'ora', `${key}.tar.gz`);
}

/** The template's bytes, or null when there is none (or it cannot be read). */
export function readPgliteTemplate(): Blob | null {
  try {
    const file = pgliteTemplatePath();
    return existsSync(file) ? new Blob([readFileSync(file)]) : null;
  } catch {
    return null;
  }
}

/** Is `dir` a place PGlite would run initdb in (absent, or an empty folder)? */
export function isFreshDataDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/** Runs initdb once and writes the template (atomically: readers see all of it or none). */
export async function buildPgliteTemplate(): Promise<{ file: string; bytes: number; built: boolean }> {
  const file = pgliteTemplatePath();
  if (existsSync(file)) return { file, bytes: readFileSync(file).length, built: false };
  const pglite = await PGlite.create({ extensions: { vector } });
  try {
    const tarball = Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer());
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, tarball);
    renameSync(partial, file);
    return { file, bytes: tarball.length, built: true };
  } finally {
    await pglite.close();
  }
}

/** Removes a template that could not be loaded, so the next start runs initdb (and install rebuilds it). */
export function discardPgliteTemplate(): void {
  rmSync(pgliteTemplatePath(), { force: true });
}
