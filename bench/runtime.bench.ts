/**
 * `pnpm bench runtime [--runs 20] [--steps 25] [--postgres]`
 *
 * The agent runtime's own cost per tool-loop step: everything a step does outside the provider
 * call (building the request, the router, parsing the answer, validating the tool call's
 * arguments, checking its durable id for a result to replay and recording its result, the tool
 * itself, the transcript, keeping the run row up to date), with a fake OpenAI server
 * (packages/testkit) that answers at once through the real `openai` SDK. The fake runs in a child
 * process, as a provider is not in ORA's process either. Each step's model answer is one call of
 * a side-effecting no-op tool, so the durable tool-call record (one write) is in every step, and
 * the run row is brought up to date after every step (in the background); the last step answers
 * with text. The baseline, measured in the same run, is the provider call
 * itself: the same SDK call to the same fake, timed alone. The database is PGlite in this process
 * (the embedded default), or a Postgres database of the bench's own with --postgres.
 */
import { parseArgs } from 'node:util';
import {
  builtinTools,
  createTaskGraph,
  defineTool,
  ensureDefaultAgents,
  type LlmProvider,
  OpenAIProvider,
  ProviderRegistry,
  runAgentTask,
  type StepTiming,
  systemActor,
  systemClock,
  type ToolDefinition,
  toolRegistry,
} from '@ora/core';
import { createDatabase, migrateToLatest, type OraDatabase } from '@ora/db';
import { z } from 'zod';
import {
  type BenchReport,
  createBenchDatabase,
  type Figure,
  formatValue,
  neutralEnv,
  onInterrupt,
  progress,
  spawnUntilReady,
} from './lib';

export const description =
  'agent runtime overhead per tool-loop step (outside the provider call) p50/p99, fake provider answering at once';

const TARGET_MS = 5;

interface Options {
  runs: number;
  steps: number;
  postgres: boolean;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: 'string', default: '20' },
      steps: { type: 'string', default: '25' },
      postgres: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got "${value}")`);
    return n;
  };
  return { runs: int('runs', values.runs, 2), steps: int('steps', values.steps, 2), postgres: values.postgres };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
};

/** A side effect that does nothing: the runtime's durable bookkeeping is all that is measured. */
const noteTool = defineTool({
  name: 'bench.note',
  description: 'Write a note (does nothing; the runtime records the call)',
  scopes: ['tasks:write'],
  sideEffect: true,
  input: z.object({ step: z.number().int(), text: z.string().max(1000) }),
  async run(_ctx, args) {
    return { noted: args.step };
  },
});

export async function run(args: string[]): Promise<BenchReport> {
  const options = parseOptions(args);
  const fake = await spawnUntilReady({
    label: 'fake provider',
    args: ['--import', 'tsx', 'bench/runtime.fake.ts', String(options.steps)],
    env: neutralEnv(),
    readyLine: /fake provider at (http:\/\/\S+)/,
  });
  const forget = onInterrupt(() => fake.stop(2_000));
  const baseURL = fake.url;
  const benchDb = options.postgres ? await createBenchDatabase('runtime') : null;
  let database: OraDatabase | null = null;
  try {
    database = benchDb
      ? await createDatabase({ kind: 'postgres', url: benchDb.url, poolSize: 4 })
      : await createDatabase({ kind: 'pglite' });
    await migrateToLatest(database.db);
    await ensureDefaultAgents(database.db);
    const db = database.db;
    await db
      .updateTable('agents')
      .set({ tools: ['bench.note'], max_steps: options.steps + 5, model: 'openai/gpt-4o-mini' })
      .where('slug', '=', 'analyst')
      .execute();

    // CPU time (process-wide) inside the provider calls, to tell the runtime's own CPU from waiting
    // for a core: on a shared machine, wall time outside the call includes being descheduled.
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const sdk = new OpenAIProvider({ apiKey: 'sk-bench', baseURL });
    let providerCpu = 0;
    const timed: LlmProvider = {
      name: 'openai',
      async chat(request) {
        const before = cpuMs();
        try {
          return await sdk.chat(request);
        } finally {
          providerCpu += cpuMs() - before;
        }
      },
    };
    const providers = new ProviderRegistry({ openaiApiKey: 'sk-bench', openaiBaseUrl: baseURL }, { openai: timed });
    const tools = toolRegistry([...(builtinTools.values() as Iterable<ToolDefinition>), noteTool as ToolDefinition]);
    const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
    const timings: StepTiming[] = [];
    const cpuOutside: number[] = [];
    let mark = { cpu: 0, provider: 0 };
    const onStep = (t: StepTiming) => {
      timings.push(t);
      const now = { cpu: cpuMs(), provider: providerCpu };
      // The first step of a run also carries the run's set-up: only later steps count here.
      if (t.step > 0) cpuOutside.push(now.cpu - mark.cpu - (now.provider - mark.provider));
      mark = now;
    };
    const runOnce = async (record: boolean) => {
      const created = await createTaskGraph({ db, clock: systemClock }, systemActor, [
        { agent: 'analyst', taskType: 'bench.run', title: 'Note every step' },
      ]);
      const task = created.tasks[0];
      if (!task) throw new Error('no task');
      mark = { cpu: cpuMs(), provider: providerCpu };
      const outcome = await runAgentTask(
        {
          db,
          clock: systemClock,
          log: silent,
          tools,
          services: { providers, media: null, memory: null },
          ...(record ? { onStep } : {}),
          // As against a real provider, whose steps take longer than the run row's refresh interval.
          progressEveryMs: 0,
        },
        {
          task,
          dependencies: [],
          attempt: 1,
          signal: new AbortController().signal,
          log: silent,
          chainBudget: { tokensLeft: null, costLeft: null },
        },
      );
      if (outcome.status !== 'success') throw new Error(`run ended ${outcome.status}`);
    };

    progress(`warm-up: 2 runs of ${options.steps} steps (${benchDb ? 'Postgres' : 'PGlite'})`);
    await runOnce(false);
    await runOnce(false);

    // Alternate: a run of the runtime, then as many bare provider calls as it made steps.
    const bare = new OpenAIProvider({ apiKey: 'sk-bench', baseURL });
    const baseline: number[] = [];
    const messages = [{ role: 'user' as const, content: 'Note every step' }];
    const spec = [{ name: 'bench_note', description: 'Write a note', parameters: { type: 'object', properties: {} } }];
    for (let r = 0; r < options.runs; r++) {
      await runOnce(true);
      for (let s = 0; s < options.steps; s++) {
        const started = performance.now();
        await bare.chat({
          model: 'gpt-4o-mini',
          system: 'bench',
          messages,
          tools: spec,
          maxOutputTokens: 100,
          timeoutMs: 10_000,
          signal: new AbortController().signal,
        });
        baseline.push(performance.now() - started);
      }
      if ((r + 1) % 5 === 0) progress(`${r + 1}/${options.runs} runs`);
    }

    const overheads = timings.map((t) => t.totalMs - t.providerMs);
    const share = (values: number[]) =>
      `${((100 * values.filter((v) => v > TARGET_MS).length) / Math.max(1, values.length)).toFixed(1)}%`;
    const overhead = stats(overheads);
    const withoutTool = stats(timings.map((t) => t.totalMs - t.providerMs - t.toolMs));
    const provider = stats(baseline);
    const cpu = stats(cpuOutside);
    const inRuntime = stats(timings.map((t) => t.providerMs));
    const figure = (name: string, ours: number, base: number): Figure => ({
      name,
      unit: 'ms',
      ours,
      baseline: base,
      higherIsBetter: false,
      target: { on: 'ours', atMost: TARGET_MS },
    });
    return {
      summary: `Runtime time per tool-loop step outside the provider call, over ${overhead.n} steps (${options.runs} runs of ${options.steps} steps), beside the provider call itself (the same SDK call to the same instant fake) as the baseline. Database: ${benchDb ? 'Postgres' : 'PGlite, in process'}.`,
      settings: [
        `${options.runs} measured runs of ${options.steps} steps after 2 warm-up runs; each step: one model answer with one side-effecting tool call (durable record), the last step a text answer`,
        'fake OpenAI server (packages/testkit) in a child process, answering at once, through the official openai SDK',
        `database: ${benchDb ? `Postgres at ${benchDb.name}` : 'PGlite (memory)'}; no worker, queue or HTTP API in the loop (runAgentTask called directly)`,
      ],
      figures: [
        figure('runtime overhead per step, p50', overhead.p50, provider.p50),
        figure('runtime overhead per step, p99', overhead.p99, provider.p99),
      ],
      notes: [
        `Of the overhead, the tool's own work is nil (a no-op); without it: p50 ${formatValue(withoutTool.p50, 'ms')}, p99 ${formatValue(withoutTool.p99, 'ms')}.`,
        `CPU time of the process per step outside the provider call (steps after the first of each run): p50 ${formatValue(cpu.p50, 'ms')}, p99 ${formatValue(cpu.p99, 'ms')}.`,
        `The provider call as timed inside the runtime: p50 ${formatValue(inRuntime.p50, 'ms')}, p99 ${formatValue(inRuntime.p99, 'ms')}.`,
        `Steps over ${TARGET_MS} ms: ${share(overheads)} of the runtime's overheads, ${share(baseline)} of the bare provider calls: on a loaded machine both tails are the scheduler's.`,
        'Per step the runtime writes the tool call’s durable record (its result, for replay) before the step goes on, and has the run row (transcript, tool calls, attempts, tokens so far) written in the background, overlapping the next provider call. The run row is refreshed at most every 250 ms by default; here after every step, as steps against a real provider take longer than that. With PGlite in this process, that background write holds the event loop while the next call waits for its answer, so it shows in the provider figures.',
      ],
    };
  } finally {
    await database?.close();
    await benchDb?.drop();
    forget();
    await fake.stop(2_000);
  }
}
