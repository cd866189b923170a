import { processIo } from './cli/io';
import { run } from './cli/main';

/** The `ora` command (`pnpm ora ...`, `pnpm start`): see cli/main.ts and docs/cli.md. */
run(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ora: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
