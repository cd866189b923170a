/**
 * `pnpm --filter @ora/desktop build`: bundles the Electron app into dist/app, the directory
 * electron-builder packages (electron-builder.yml, `directories.app`):
 *
 * - main.cjs, core-host.cjs, preload.cjs: esbuild bundles (the workspace packages are inlined,
 *   so the app ships no TypeScript sources); electron and better-sqlite3 stay external;
 * - renderer/: index.html, renderer.js, renderer.css;
 * - package.json: the app's own, whose only dependency is better-sqlite3, so electron-builder
 *   installs it and rebuilds it against Electron's ABI for each target platform.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildRenderer } from '../renderer/build';
import { rendererHtml } from '../renderer/page';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'dist/app');
const started = performance.now();

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'renderer'), { recursive: true });

const entries = {
  main: 'src/main/main.ts',
  'core-host': 'src/main/core-host.ts',
  preload: 'src/preload/preload.ts',
};
for (const [name, entry] of Object.entries(entries)) {
  await esbuild.build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(out, `${name}.cjs`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['electron', 'better-sqlite3'],
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

const assets = await buildRenderer();
writeFileSync(path.join(out, 'renderer/index.html'), rendererHtml({ mode: 'electron' }));
writeFileSync(path.join(out, 'renderer/renderer.js'), assets.js);
writeFileSync(path.join(out, 'renderer/renderer.css'), assets.css);

const own = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
writeFileSync(
  path.join(out, 'package.json'),
  `${JSON.stringify(
    {
      name: 'ora-desktop',
      productName: 'ORA',
      version: own.version,
      description: 'ORA: your agent team, on your desktop',
      author: 'ORA',
      main: 'main.cjs',
      dependencies: { 'better-sqlite3': own.dependencies['better-sqlite3'] },
      devDependencies: { electron: own.devDependencies.electron },
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`built dist/app in ${Math.round(performance.now() - started)} ms\n`);
