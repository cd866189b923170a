/**
 * `pnpm bench <area> [options]` runs `bench/<area>.bench.ts`: it measures, prints a table of figures
 * against baselines from the same run, and rewrites the area's section of docs/benchmarks.md.
 * Exits 1 when a figure misses its target (or could not be measured), 2 on a usage error.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BenchArea, benchDir, describeMachine, machineLine, progress, publish, runInterruptCleanups } from './lib';

const SUFFIX = '.bench.ts';

function areas(): string[] {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
}

async function loadArea(area: string): Promise<BenchArea> {
  const module = (await import(pathToFileURL(path.join(benchDir, `${area}${SUFFIX}`)).href)) as Partial<BenchArea>;
  if (typeof module.run !== 'function' || typeof module.description !== 'string') {
    throw new Error(`bench/${area}${SUFFIX} must export \`description\` (a string) and \`run(args)\``);
  }
  return module as BenchArea;
}

async function main(argv: string[]): Promise<number> {
  const [area, ...args] = argv;
  const known = areas();
  if (!area || area === '--help' || area === '-h') {
    const lines = await Promise.all(known.map(async (a) => `  ${a.padEnd(10)} ${(await loadArea(a)).description}`));
    process.stdout.write(`Usage: pnpm bench <area> [options]\n\nAreas:\n${lines.join('\n')}\n`);
    return area ? 0 : 2;
  }
  if (!known.includes(area)) {
    process.stderr.write(`Unknown benchmark area "${area}"; the areas are: ${known.join(', ')}\n`);
    return 2;
  }
  const bench = await loadArea(area);
  const machine = describeMachine();
  progress(`${area}: ${bench.description}`);
  progress(`machine: ${machineLine(machine)}`);
  const report = await bench.run(args);
  return publish(area, report, machine) > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping children and removing what the bench created...`);
    void runInterruptCleanups().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    await runInterruptCleanups();
    process.exitCode = 1;
  },
);
