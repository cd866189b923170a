/**
 * Run by `pnpm install` (the root package's postinstall): makes the embedded database's initdb
 * template once per installed PGlite build, so a first `pnpm start` (and every in-memory test
 * database) skips initdb. See src/pglite-template.ts.
 */
import { buildPgliteTemplate, pgliteTemplatePath } from '../src/pglite-template';

const started = performance.now();
try {
  process.stdout.write('ora: preparing the embedded database template (initdb, once per PGlite version)... ');
  const { file, bytes, built } = await buildPgliteTemplate();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    built ? `done in ${seconds} s (${(bytes / 2 ** 20).toFixed(1)} MiB, ${file})\n` : 'already there\n',
  );
} catch (error) {
  // Not fatal: without the template a fresh database runs initdb at its first start (a few seconds more).
  process.stdout.write(
    `skipped: ${(error as Error).message}\n  a new embedded database will run initdb at its first start instead; rerun with \`node --import tsx packages/db/scripts/pglite-template.ts\` (writes ${pgliteTemplatePath()})\n`,
  );
}
