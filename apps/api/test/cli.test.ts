import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionNames } from '@ora/contracts';
import { NonRetryableTaskError, type TaskHandlers } from '@ora/core';
import { createTestPostgres, servicesAvailable, type TestPostgres } from '@ora/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../src/cli/commands/index';
import { writeConfigFile } from '../src/cli/connection';
import type { CliIo } from '../src/cli/io';
import { run } from '../src/cli/main';
import { call, startTestServer, type TestServer } from './harness';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'ora-cli-'));
const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** Lets a test hold a task in `running` until it says so. */
const gates = new Map<string, () => void>();

const handlers: TaskHandlers = {
  byType: {
    'test.record': async ({ task }) => ({ status: 'success', output: { title: task.title } }),
    // The first attempt waits for the test to let it fail, so a watcher is there to see it.
    'test.flaky': async ({ task, attempt }) => {
      if (attempt < 2) {
        await new Promise<void>((resolve) => gates.set(task.title, resolve));
        throw new Error(`flake ${attempt}`);
      }
      return { status: 'success', output: { attempt } };
    },
    'test.gate': async ({ task }) => {
      await new Promise<void>((resolve) => gates.set(task.title, resolve));
      return { status: 'success' };
    },
    'test.block': ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    'test.broken': async () => {
      throw new NonRetryableTaskError('input can never work');
    },
    write_post: async ({ task }) => ({ status: 'success', output: { draft: `# ${task.title}` } }),
    optimize_seo: async () => ({ status: 'success', output: { seo: true } }),
    generate_image: async () => ({ status: 'success', output: { image: 'cover.png' } }),
    publish_post: async () => ({ status: 'success', output: { published: true } }),
  },
};

let server: TestServer;
let url: string;
/** A port nothing listens on (a server that was there and stopped). */
let deadUrl: string;

beforeAll(async () => {
  server = await startTestServer('embedded', {
    env: { ORA_EVENTS_POLL_MS: '50', ORA_WEBHOOK_ALLOW_PRIVATE: 'true' },
    taskHandlers: handlers,
    tasks: { worker: { concurrency: 8, heartbeatMs: 200, backoffBaseMs: 50 }, maintenanceIntervalMs: 200 },
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  deadUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

let configCounter = 0;
/** A config file path of its own (not created), so no test sees another's `ora login`. */
function freshConfig(): string {
  return path.join(scratch, `config-${++configCounter}`, 'config.json');
}

/** The CLI in this process through `run(argv, io)`: same code as the binary, no process start-up. */
async function cli(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    stdin?: string;
    signal?: AbortSignal;
    onOutput?: (all: string) => void;
  } = {},
): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: {
      write(chunk: string) {
        stdout += chunk;
        options.onOutput?.(stdout + stderr);
      },
    },
    stderr: {
      write(chunk: string) {
        stderr += chunk;
        options.onOutput?.(stdout + stderr);
      },
    },
    readStdin: async () => options.stdin ?? '',
    env: { ORA_URL: url, ORA_API_KEY: server.rootKey, ORA_CONFIG: freshConfig(), ...options.env },
    cwd: scratch,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

/** The real binary, as `pnpm ora` runs it. */
function spawnCli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, ORA_URL: url, ORA_API_KEY: server.rootKey, ORA_CONFIG: freshConfig(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function createTask(taskType: string, title: string, extra: Record<string, unknown> = {}) {
  const res = await call(server, server.rootKey, 'tasks.create', { taskType, title, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.tasks[0] as { id: string; chainId: string; status: string };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function statusOf(id: string): Promise<string> {
  return (await call(server, server.rootKey, 'tasks.get', { id })).body.data.status;
}

describe('ora as a process (pnpm ora)', () => {
  it('lists tasks as JSON through the real binary, with the URL and key from the environment', async () => {
    const task = await createTask('test.record', 'seen by the binary');
    const ran = await spawnCli(['tasks', 'ls', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const page = JSON.parse(ran.stdout);
    expect(page.items.map((t: { id: string }) => t.id)).toContain(task.id);
    expect(ran.stdout + ran.stderr).not.toContain(server.rootKey);
  }, 120_000);

  it('exits 1 on an API error (404) and 1 with a hint when no server answers', async () => {
    const missing = await spawnCli(['tasks', 'get', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Not found: No task with id 00000000-0000-4000-8000-000000000000 \(request req_/);
    const absent = await spawnCli(['tasks', 'ls'], { ORA_URL: deadUrl });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain(
      `No ORA server answers at ${deadUrl} (ECONNREFUSED): start one with \`pnpm start\``,
    );
    expect(absent.stderr).toContain('--url');
  }, 120_000);

  it('exits 2 on a bad flag, naming it and the closest real one', async () => {
    const ran = await spawnCli(['tasks.list', '--limt', '3']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('Unknown option --limt (did you mean --limit?)');
    expect(ran.stderr).toContain('`ora tasks.list --help`');
    expect(ran.stdout).toBe('');
  }, 120_000);
});

describe('help', () => {
  it('`ora help` lists every action grouped by domain, every friendly command, and the exit codes', async () => {
    const ran = await cli(['help']);
    expect(ran.code).toBe(0);
    for (const name of actionNames) expect(ran.stdout).toContain(name);
    for (const command of commands) expect(ran.stdout).toContain(`  ${command.name} `);
    expect(ran.stdout).toMatch(/^ {2}memory {2,}memory\.archive/m);
    expect(ran.stdout).toContain('Exit codes: 0 done, 1');
    expect((await cli([])).stdout).toBe(ran.stdout);
  });

  it('`ora <action> --help` prints the fields generated from the input schema', async () => {
    const create = await cli(['tasks.create', '--help']);
    expect(create.code).toBe(0);
    expect(create.stdout).toContain('Scope: tasks:write. Changes state; --idempotency-key');
    expect(create.stdout).toMatch(/--task-type TEXT/);
    expect(create.stdout).toMatch(/--priority INT +-1000\.\.1000/);
    expect(create.stdout).toMatch(/--requires-approval \/ --no-requires-approval/);
    expect(create.stdout).toMatch(/--depends-on TEXT\[,\.\.\.\]/);
    expect(create.stdout).toMatch(/--steps JSON/);
    expect(create.stdout).toContain('one of 2 shapes');
    const search = await cli(['memory.search', '--help']);
    expect(search.stdout).toMatch(/--query TEXT +required/);
    expect(search.stdout).toMatch(/--mode auto\|hybrid\|fulltext\|vector .*default "auto"/);
    expect(search.stdout).toMatch(/--types NAME\[,\.\.\.\] +one of fact, preference, context/);
    expect(search.stdout).toContain('Reads only.');
    // The same help through `ora help <action>`, and friendly commands have theirs.
    expect((await cli(['help', 'memory.search'])).stdout).toBe(search.stdout);
    const watch = await cli(['tasks', 'watch', '--help']);
    expect(watch.stdout).toContain('Usage: ora tasks watch [ID] [--chain]');
    expect(watch.stdout).toContain('Exits 0 when every followed task succeeded');
  });
});

describe('generic action calls', () => {
  it('builds the input from typed flags: text, numbers, booleans, enums, lists, JSON and null', async () => {
    const upsert = await cli([
      'memory.upsert',
      '--type',
      'preference',
      '--key',
      'cli.tz',
      '--content',
      'Europe/Berlin',
      '--importance',
      '0.8',
      '--pinned',
      '--summary',
      'null',
      '--json',
    ]);
    expect(upsert.code, upsert.stderr).toBe(0);
    const memory = JSON.parse(upsert.stdout).memory;
    expect(memory).toMatchObject({
      type: 'preference',
      key: 'cli.tz',
      content: 'Europe/Berlin',
      importance: 0.8,
      pinned: true,
      summary: null,
    });

    const json = await cli([
      'memory.upsert',
      '--type',
      'fact',
      '--key',
      'cli.json',
      '--content',
      '{"a":[1,2]}',
      '--no-pinned',
      '--json',
    ]);
    expect(JSON.parse(json.stdout).memory).toMatchObject({ content: { a: [1, 2] }, pinned: false });

    const list = await cli(['memory.list', '--type', 'preference,fact', '--key-prefix', 'cli.', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(
      JSON.parse(list.stdout)
        .items.map((m: { key: string }) => m.key)
        .sort(),
    ).toEqual(['cli.json', 'cli.tz']);
    const one = await cli(['memory.list', '--type', 'fact', '--key-prefix', 'cli.', '--json']);
    expect(JSON.parse(one.stdout).items.map((m: { key: string }) => m.key)).toEqual(['cli.json']);
  });

  it('takes the input from --data JSON, @file and standard input; flags override its fields', async () => {
    const file = path.join(scratch, 'task.json');
    writeFileSync(file, JSON.stringify({ taskType: 'test.record', title: 'from a file', priority: 5 }));
    const fromFile = await cli(['tasks.create', '--data', '@task.json', '--priority', '7', '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout).tasks[0]).toMatchObject({ title: 'from a file', priority: 7 });

    const inline = await cli(['tasks.create', '-d', '{"taskType":"test.record","title":"inline"}', '--json']);
    expect(JSON.parse(inline.stdout).tasks[0].title).toBe('inline');

    const stdin = await cli(['tasks.create', '--data', '-', '--json'], {
      stdin: JSON.stringify({
        steps: [
          { ref: 'a', taskType: 'test.record', title: 'dag a' },
          { taskType: 'test.record', title: 'dag b', dependsOn: ['a'] },
        ],
      }),
    });
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(JSON.parse(stdin.stdout).tasks).toHaveLength(2);

    const missingFile = await cli(['tasks.create', '--data', '@nope.json']);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain('nope.json: ENOENT');
    const notJson = await cli(['tasks.create', '--data', '{oops']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('--data is not valid JSON');
  });

  it('renders answers readably: a page as a table, one thing as fields; the id may be the only argument', async () => {
    const task = await createTask('test.record', 'rendered');
    const got = await cli(['tasks.get', task.id]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^id: +${task.id}$`, 'm'));
    expect(got.stdout).toMatch(/^title: +rendered$/m);
    const keys = await cli(['keys.list']);
    expect(keys.stdout.split('\n')[0]).toMatch(/^ID +NAME +SCOPES/);
    expect(keys.stdout).not.toContain(server.rootKey);
  });

  it('replays a mutation with the same --idempotency-key instead of repeating it', async () => {
    const args = [
      'tasks.create',
      '--task-type',
      'test.record',
      '--title',
      'once',
      '--idempotency-key',
      'cli-once-1',
      '--json',
    ];
    const first = await cli(args);
    const second = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(second.stdout).chainId).toBe(JSON.parse(first.stdout).chainId);
    const refused = await cli(['tasks.list', '--idempotency-key', 'x']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('tasks.list changes nothing');
  });

  it('checks flags before calling: unknown options, enums, numbers and the schema give exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tasks.list', '--status', 'done'], /--status must be one of pending, queued.*; got "done"/],
      [['tasks.list', '--limit', 'ten'], /--limit takes a number; got "ten"/],
      [['tasks.list', '--limit', '2.5'], /--limit takes a whole number/],
      [['tasks.list', '--limit', '0'], /Invalid input for tasks.list:\n {2}--limit: Too small/],
      [['tasks.get', '--id', '12'], /--id: Invalid UUID/],
      [['tasks.create', '--title', 'no type'], /--steps: .*\(or:\)\n {2}--task-type: /],
      [['tasks.list', '--limit'], /--limit needs a value/],
      [['tasks.list', '--include-revoked'], /Unknown option --include-revoked/],
      [['memory.upsert', '--pinned=maybe'], /--pinned is true or false, not "maybe"/],
      [['tasks.lst'], /"tasks.lst" is not an action \(did you mean tasks.list\?\)/],
      [['taks', 'ls'], /Unknown command "taks" \(did you mean "ora tasks"\?\)/],
      [['tasks', 'get'], /tasks get needs a task id/],
      [['tasks.list', 'extra'], /Unexpected argument "extra"/],
    ];
    for (const [args, message] of cases) {
      const ran = await cli(args);
      expect(ran.code, `${args.join(' ')}: ${ran.stderr}`).toBe(2);
      expect(ran.stderr).toMatch(message);
    }
  });

  it('explains API errors with exit 1: 404, 401 with how to get a key, 403 naming the scope; JSON with --json', async () => {
    const notFound = await cli(['tasks.get', '00000000-0000-4000-8000-000000000000']);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/^ora: Not found: /);

    const wrongKey = 'ora_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const unauthorized = await cli(['tasks', 'ls'], { env: { ORA_API_KEY: wrongKey } });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain(`${url} refused the key from the environment`);
    expect(unauthorized.stderr).toContain('pnpm ora keys create --local --name cli');
    expect(unauthorized.stderr).not.toContain(wrongKey);

    const reader = await call(server, server.rootKey, 'keys.create', { name: 'cli reader', scopes: ['keys:read'] });
    const forbidden = await cli(['tasks', 'ls'], { env: { ORA_API_KEY: reader.body.data.secret } });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/Not allowed: .*tasks:read/);
    expect(forbidden.stderr).toContain('`ora whoami` shows its scopes');

    const asJson = await cli(['tasks.get', '00000000-0000-4000-8000-000000000000', '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'NOT_FOUND' }, status: 404 });
    const usageJson = await cli(['tasks.list', '--bogus', '--json']);
    expect(usageJson.code).toBe(2);
    expect(JSON.parse(usageJson.stderr).error.code).toBe('USAGE_ERROR');

    const noKey = await cli(['tasks', 'ls'], { env: { ORA_API_KEY: undefined } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain(`No API key for ${url}`);
  });
});

describe('friendly commands', () => {
  it('tasks ls: a table, filtered by status and type, newest first', async () => {
    const ok = await createTask('test.record', 'ls ok');
    const broken = await createTask('test.broken', 'ls broken');
    await waitFor(async () => ((await statusOf(broken.id)) === 'error' ? true : undefined), 'the broken task');
    await waitFor(async () => ((await statusOf(ok.id)) === 'success' ? true : undefined), 'the ok task');
    const all = await cli(['tasks', 'ls', '--type', 'test.record', '--limit', '200']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^ID +STATUS +TYPE +AGENT +TRIES +UPDATED +TITLE$/);
    const failed = await cli(['tasks', 'ls', '--status', 'error', '--type', 'test.broken', '--since', '10m']);
    expect(failed.stdout).toContain(broken.id);
    expect(failed.stdout).not.toContain(ok.id);
    expect(failed.stdout).toMatch(new RegExp(`${broken.id} +error +test\\.broken +system +1/\\d+ .* ls broken`));
    const none = await cli(['tasks', 'ls', '--chain', '00000000-0000-4000-8000-000000000000']);
    expect(none.stdout).toContain('No tasks match');
  });

  it('tasks get: state, the event log and what depends on what', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      steps: [
        { ref: 'a', taskType: 'test.record', title: 'get first' },
        { ref: 'b', taskType: 'test.record', title: 'get second', dependsOn: ['a'] },
      ],
    });
    const [first] = res.body.data.tasks as Array<{ id: string }>;
    await waitFor(async () => ((await statusOf(first!.id)) === 'success' ? true : undefined), 'the first step');
    const ran = await cli(['tasks', 'get', first!.id]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^status: +success$/m);
    expect(ran.stdout).toMatch(/^feeds +[0-9a-f-]{36} +\w+ +get second$/m);
    expect(ran.stdout).toMatch(/\(new\) -> queued/);
    expect(ran.stdout).toMatch(/running -> success/);
    expect(ran.stdout).toMatch(/^output: +\{"title":"get first"\}$/m);
  });

  it('tasks watch ID follows the live event stream: a failed attempt and its retry, then success', async () => {
    const task = await createTask('test.flaky', 'watch flaky');
    let output = '';
    const watching = cli(['tasks', 'watch', task.id], { onOutput: (all) => (output = all) });
    await waitFor(() => (/▶ running +watch flaky/.test(output) ? true : undefined), 'the running line');
    await waitFor(() => (output.includes(`Following task ${task.id} live`) ? true : undefined), 'the stream');
    (await waitFor(() => gates.get('watch flaky'), 'the first attempt'))();
    const ran = await watching;
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    // Only the event stream says why an attempt failed; the task's state is success by the end.
    expect(ran.stdout).toMatch(/watch flaky \(test\.flaky\): attempt 1 failed: flake 1, will retry/);
    expect(ran.stdout).toMatch(/\[1\/1\] ✓ success +watch flaky/);
    expect(ran.stderr).toMatch(/Done after [\d.]+ s: 1 task succeeded/);
  });

  it('tasks watch shows progress while a task runs, and waits for it to end', async () => {
    const task = await createTask('test.gate', 'watch gate');
    let output = '';
    const watching = cli(['tasks', 'watch', task.id], { onOutput: (all) => (output = all) });
    await waitFor(() => (/▶ running +watch gate/.test(output) ? true : undefined), 'the running line');
    expect(output).not.toMatch(/success/);
    await waitFor(() => gates.get('watch gate'), 'the gate');
    gates.get('watch gate')?.();
    const ran = await watching;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/✓ success +watch gate \(test\.gate\) in [\d.]+ s/);
  });

  it('tasks watch ID --chain follows every task of the chain; a failure exits 1; --json prints events', async () => {
    const res = await call(server, server.rootKey, 'tasks.create', {
      steps: [
        { ref: 'a', taskType: 'test.record', title: 'chain ok' },
        { ref: 'b', taskType: 'test.broken', title: 'chain broken', dependsOn: ['a'] },
      ],
    });
    const first = res.body.data.tasks.find((t: { title: string }) => t.title === 'chain ok');
    const ran = await cli(['tasks', 'watch', first.id, '--chain']);
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/✓ success +chain ok/);
    expect(ran.stdout).toMatch(/\[2\/2\] ✗ error +chain broken \(test\.broken\): .*input can never work/);
    expect(ran.stderr).toMatch(/1 of 2 did not succeed \(chain broken: error\)/);

    const json = await cli(['tasks', 'watch', first.id, '--chain', '--json']);
    expect(json.code).toBe(1);
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1) as string);
    expect(last).toMatchObject({ type: 'watch.done', ok: false });
    expect(last.tasks).toHaveLength(2);
  });

  it('tasks watch without an id follows every task event until interrupted', async () => {
    const stop = new AbortController();
    let output = '';
    const watching = cli(['tasks', 'watch'], { signal: stop.signal, onOutput: (all) => (output = all) });
    await waitFor(() => (output.includes('Following task events') ? true : undefined), 'the stream to open');
    await createTask('test.record', 'seen live');
    await waitFor(() => (/✓ success +seen live/.test(output) ? true : undefined), 'the live event');
    stop.abort();
    const ran = await watching;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/… queued +seen live/);
  });

  it('tasks watch ID stops on Ctrl-C with exit 130; the task goes on', async () => {
    const task = await createTask('test.block', 'watched then left');
    const stop = new AbortController();
    let output = '';
    const watching = cli(['tasks', 'watch', task.id], { signal: stop.signal, onOutput: (all) => (output = all) });
    await waitFor(() => (output.includes(`Following task ${task.id} live`) ? true : undefined), 'the stream');
    stop.abort();
    const ran = await watching;
    expect(ran.code).toBe(130);
    expect(ran.stderr).toContain(
      `Stopped watching; the tasks go on. Follow them again with \`ora tasks watch ${task.id}\``,
    );
    expect(['queued', 'running']).toContain(await statusOf(task.id));
    await call(server, server.rootKey, 'tasks.cancel', { id: task.id });
  });

  it('tasks cancel, approve (and --reject) and retry, with --model', async () => {
    const blocked = await createTask('test.block', 'to cancel');
    await waitFor(
      async () => ((await statusOf(blocked.id)) === 'running' ? true : undefined),
      'the blocked task to run',
    );
    const cancelled = await cli(['tasks', 'cancel', blocked.id, '--reason', 'changed my mind']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    // A running task is told to stop; it is cancelled once its handler lets go.
    expect(cancelled.stdout).toMatch(
      new RegExp(`^Cancelled ${blocked.id} "to cancel": now (cancelled|running \\(cancelling\\))`),
    );
    await waitFor(async () => ((await statusOf(blocked.id)) === 'cancelled' ? true : undefined), 'the cancel');

    const gated = await createTask('test.record', 'needs a yes', { requiresApproval: true });
    expect(await statusOf(gated.id)).toBe('waiting');
    const approved = await cli(['tasks', 'approve', gated.id]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/^Approved .* "needs a yes": now (queued|running|success)/);
    await waitFor(async () => ((await statusOf(gated.id)) === 'success' ? true : undefined), 'the approved task');
    const refused = await createTask('test.record', 'needs a no', { requiresApproval: true });
    const rejected = await cli(['tasks', 'approve', refused.id, '--reject', '--reason', 'no']);
    expect(rejected.stdout).toMatch(/^Rejected .*: now cancelled/);

    const broken = await createTask('test.broken', 'to retry');
    await waitFor(async () => ((await statusOf(broken.id)) === 'error' ? true : undefined), 'the broken task');
    const retried = await cli(['tasks', 'retry', broken.id, '--model', 'openai/gpt-4o-mini', '--watch']);
    expect(retried.code).toBe(1);
    expect(retried.stderr).toContain(`Retrying ${broken.id} "to retry" on openai/gpt-4o-mini`);
    expect(retried.stdout).toMatch(/✗ error +to retry/);
    const after = (await call(server, server.rootKey, 'tasks.get', { id: broken.id })).body.data;
    expect(after.modelOverride).toBe('openai/gpt-4o-mini');
    expect(after.events.filter((e: { toStatus: string }) => e.toStatus === 'error')).toHaveLength(2);
    const badModel = await cli(['tasks', 'retry', broken.id, '--model', 'nonsense']);
    expect(badModel.code).toBe(1);
    expect(badModel.stderr).toContain('The server refused the input');
  });

  it('workflow ls and workflow run publish_post --topic ... --watch to the end, with progress', async () => {
    const listed = await cli(['workflow', 'ls']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^publish_post +1 +--topic --audience\? --keywords\? +4 /m);

    const help = await cli(['workflow', 'run', 'publish_post', '--help']);
    expect(help.stdout).toMatch(/--topic VALUE +string, required/);

    const ran = await cli([
      'workflow',
      'run',
      'publish_post',
      '--topic',
      'CLI tools',
      '--audience',
      'operators',
      '--watch',
    ]);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/Started publish_post v1: chain [0-9a-f-]{36}, 4 steps/);
    for (const title of [
      'Write a draft about CLI tools',
      'Optimise the post about CLI tools for search',
      'Illustrate the post about CLI tools',
      'Publish the post about CLI tools',
    ]) {
      expect(ran.stdout).toMatch(new RegExp(`✓ success +${title}`));
    }
    expect(ran.stdout).toMatch(/\[4\/4\] ✓ success +Publish the post about CLI tools/);
    expect(ran.stderr).toMatch(/4 tasks succeeded/);
    const chainId = /chain ([0-9a-f-]{36})/.exec(ran.stderr)?.[1] as string;
    const tasks = (await call(server, server.rootKey, 'tasks.list', { chainId })).body.data.items;
    expect(tasks.find((t: { taskType: string }) => t.taskType === 'write_post').input).toMatchObject({
      topic: 'CLI tools',
      audience: 'operators',
    });

    const started = await cli(['workflow', 'run', 'publish_post', '--topic', 'no watching']);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^Started publish_post v1: chain /);
    expect(started.stdout).toMatch(/queued +write_post +writer/);

    const missing = await cli(['workflow', 'run', 'publish_post', '--audience', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('publish_post needs --topic');
    const unknownInput = await cli(['workflow', 'run', 'publish_post', '--topic', 'x', '--colour', 'red']);
    expect(unknownInput.code).toBe(2);
    expect(unknownInput.stderr).toContain('Unknown option --colour');
    const unknown = await cli(['workflow', 'run', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Not found/);
  });

  it('memory search: hits with their score parts', async () => {
    await call(server, server.rootKey, 'memory.upsert', {
      type: 'fact',
      key: 'search.coffee',
      content: 'The operator drinks espresso every morning',
      importance: 0.9,
    });
    const ran = await cli(['memory', 'search', 'espresso', 'morning', '--type', 'fact', '--mode', 'fulltext']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout.split('\n')[0]).toMatch(/^SCORE +REL +IMP +REC +TYPE +KEY +CONTENT +ID$/);
    expect(ran.stdout).toMatch(
      /^0\.\d{3} +\d\.\d\d +0\.90 +\d\.\d\d +fact +search\.coffee +The operator drinks espresso/m,
    );
    expect(ran.stderr).toMatch(/1 hit, fulltext search; score = /);
    const none = await cli(['memory', 'search', 'zanzibar', 'quokka', '--mode', 'fulltext']);
    expect(none.stdout).toContain('No memories match "zanzibar quokka"');
    const bad = await cli(['memory', 'search', 'x', '--type', 'gossip']);
    expect(bad.code).toBe(2);
  });

  it('agents ls and webhooks ls', async () => {
    const agents = await cli(['agents', 'ls']);
    expect(agents.code, agents.stderr).toBe(0);
    expect(agents.stdout).toMatch(/^SLUG +NAME +MODEL .* RUNNING +WAITING +FAILED +DONE$/m);
    expect(agents.stdout).toMatch(/^writer +Writer +/m);
    // The publish_post runs above: the writer has drafts done.
    expect(agents.stdout).toMatch(/^writer .* [1-9]\d*$/m);

    expect((await cli(['webhooks', 'ls'])).stdout).toContain('No webhooks');
    const created = await cli([
      'webhooks.create',
      '--name',
      'cli hook',
      '--url',
      'http://127.0.0.1:9/hook',
      '--events',
      'lead.created,post.published',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const hooks = await cli(['webhooks', 'ls']);
    expect(hooks.stdout).toMatch(
      /cli hook +http:\/\/127\.0\.0\.1:9\/hook +lead\.created,post\.published +active +0 +0/,
    );
  });

  it('sync status: the server version, counts and the clients that synced', async () => {
    await call(server, server.rootKey, 'memory.upsert', { type: 'fact', key: 'sync.seen', content: 'synced' });
    const pulled = await cli(['sync.pull', '--client-id', 'cli-desktop-1', '--limit', '5', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const ran = await cli(['sync', 'status']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^server version: +\d+$/m);
    expect(ran.stdout).toMatch(/^memories: +[1-9]\d*$/m);
    expect(ran.stdout).toMatch(/^conflicts: +0 pending, 0 resolved$/m);
    expect(ran.stdout).toMatch(/^CLIENT +CURSOR +LAST PUSH +LAST PULL +CONFLICTS$/m);
    expect(ran.stdout).toMatch(/^cli-desktop-1 +\d+ +- +\d{4}-\d\d-\d\d [\d:]+ +0$/m);
  });

  it('keys create, list and revoke over the API (the secret shown once, the CLI key never)', async () => {
    const created = await cli([
      'keys',
      'create',
      '--name',
      'cli made',
      '--scopes',
      'tasks:read,memory:*',
      '--per-minute',
      '30',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^ora_sk_[0-9A-Za-z]{38}$/);
    expect(created.stderr).toMatch(
      new RegExp(`Created key ${uuid.source} "cli made" with scopes tasks:read,memory:\\* on ${url}`),
    );
    const id = uuid.exec(created.stderr)?.[0] as string;

    const listed = await cli(['keys', 'list']);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id} +${secret.slice(0, 15)}… +cli made +tasks:read,memory:\\* +active`, 'm'),
    );
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(server.rootKey);

    const revoked = await cli(['keys', 'revoke', id, '--reason', 'test']);
    expect(revoked.stdout).toContain(`Revoked ${id} (cli made)`);
    expect((await cli(['tasks', 'ls'], { env: { ORA_API_KEY: secret } })).code).toBe(1);
    const badScope = await cli(['keys', 'create', '--name', 'x', '--scopes', 'everything']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('"everything" is not a scope');
    const generated = await cli(['keys', 'generate']);
    expect(generated.stdout.trim()).toMatch(/^ora_sk_[0-9A-Za-z]{38}$/);
  });

  it('login stores URL and key with mode 0600 after checking them; whoami says where each came from; logout forgets', async () => {
    const config = path.join(scratch, 'login', 'ora', 'config.json');
    const env = { ORA_CONFIG: config, ORA_URL: undefined, ORA_API_KEY: undefined };
    const refused = await cli(['login', '--url', url], {
      env,
      stdin: 'ora_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n',
    });
    expect(refused.code).toBe(1);
    expect(() => statSync(config)).toThrow();

    const loggedIn = await cli(['login', '--url', url], { env, stdin: `${server.rootKey}\n` });
    expect(loggedIn.code, loggedIn.stderr).toBe(0);
    expect(loggedIn.stdout).toContain(`Logged in to ${url} with key`);
    expect(loggedIn.stdout + loggedIn.stderr).not.toContain(server.rootKey);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url, apiKey: server.rootKey });

    const whoami = await cli(['whoami'], { env });
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toMatch(new RegExp(`^server: +${url} \\(from config file\\)$`, 'm'));
    expect(whoami.stdout).toMatch(/^key: +.*ora_sk_\w{8}… \(from config file\)$/m);
    expect(whoami.stdout).not.toContain(server.rootKey);
    expect((await cli(['tasks', 'ls'], { env })).code).toBe(0);

    const loggedOut = await cli(['logout'], { env });
    expect(loggedOut.stdout).toContain(`Removed the key from ${config}`);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url });
    expect((await cli(['tasks', 'ls'], { env })).code).toBe(2);
  });
});

describe('where the URL and key come from', () => {
  const wrongKey = 'ora_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

  it('flags over environment over the config file, each setting on its own', async () => {
    const config = path.join(scratch, 'precedence', 'config.json');
    writeConfigFile(config, { url: deadUrl, apiKey: server.rootKey });
    const base = { ORA_CONFIG: config, ORA_URL: undefined, ORA_API_KEY: undefined };

    // The file alone: its URL answers nothing.
    expect((await cli(['tasks', 'ls'], { env: base })).stderr).toContain(`No ORA server answers at ${deadUrl}`);
    // The environment's URL wins over the file's; the key still comes from the file.
    const envUrl = await cli(['whoami'], { env: { ...base, ORA_URL: url } });
    expect(envUrl.code, envUrl.stderr).toBe(0);
    expect(envUrl.stdout).toMatch(/\(from environment\)[\s\S]*\(from config file\)/);
    // A flag wins over the environment.
    expect((await cli(['tasks', 'ls', '--url', url], { env: { ...base, ORA_URL: deadUrl } })).code).toBe(0);
    expect((await cli(['--url', url, 'tasks', 'ls'], { env: { ...base, ORA_URL: deadUrl } })).code).toBe(0);
    // The environment's key wins over the file's, and a flag over the environment's.
    const envKey = await cli(['tasks', 'ls', '--url', url], { env: { ...base, ORA_API_KEY: wrongKey } });
    expect(envKey.code).toBe(1);
    expect(envKey.stderr).toContain('refused the key from the environment');
    const flagKey = await cli(['tasks', 'ls', '--url', url, '--key', server.rootKey], {
      env: { ...base, ORA_API_KEY: wrongKey },
    });
    expect(flagKey.code, flagKey.stderr).toBe(0);
  });

  it('an action field named like a connection flag stays the field; --api-key and --server still connect', async () => {
    const ran = await cli(
      [
        'memory.upsert',
        '--type',
        'fact',
        '--key',
        'cli.shadow',
        '--content',
        '1',
        '--api-key',
        server.rootKey,
        '--server',
        url,
        '--json',
      ],
      { env: { ORA_API_KEY: wrongKey, ORA_URL: deadUrl } },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout).memory.key).toBe('cli.shadow');
  });

  it('warns when the config file holding a key is readable by others, and refuses a broken one', async () => {
    const config = path.join(scratch, 'loose.json');
    writeFileSync(config, JSON.stringify({ url, apiKey: server.rootKey }));
    chmodSync(config, 0o644);
    const loose = await cli(['tasks', 'ls'], {
      env: { ORA_CONFIG: config, ORA_URL: undefined, ORA_API_KEY: undefined },
    });
    expect(loose.code).toBe(0);
    expect(loose.stderr).toContain(`chmod 600 ${config}`);
    writeFileSync(config, '{"url": 42');
    const broken = await cli(['tasks', 'ls'], { env: { ORA_CONFIG: config } });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${config} is not an ORA config`);
  });
});

describe("keys and migrate on this machine's database", () => {
  let database: TestPostgres | undefined;
  const env: Record<string, string | undefined> = { ORA_URL: undefined, ORA_API_KEY: undefined, LOG_LEVEL: 'silent' };

  beforeAll(async () => {
    // Postgres where it runs (CI always), else PGlite in a directory: either way a real database.
    if (await servicesAvailable()) {
      database = await createTestPostgres('cli');
      env.DATABASE_URL = database.url;
    } else env.ORA_DATA_DIR = path.join(scratch, 'local-data');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('keys create/list/revoke work on the database with no server configured (or with --local)', async () => {
    const created = await cli(['keys', 'create', '--name', 'local one', '--scopes', 'keys:read'], { env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('in the local database');
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^ora_sk_/);
    const id = uuid.exec(created.stderr)?.[0] as string;

    // With a server configured, --local still goes to the database (the server has no such key).
    const listed = await cli(['keys', 'list', '--local'], {
      env: { ...env, ORA_URL: url, ORA_API_KEY: server.rootKey },
    });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id} +${secret.slice(0, 15)}… +local one +keys:read +active`, 'm'));
    const revoked = await cli(['keys', 'revoke', id], { env });
    expect(revoked.stdout).toContain(`Revoked ${id} (local one)`);
    const after = await cli(['keys', 'list', '--json'], { env });
    expect(JSON.parse(after.stdout).find((k: { id: string }) => k.id === id).revokedAt).toEqual(expect.any(String));

    const status = await cli(['migrate', '--status'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout.trim()).toBe('Up to date.');
    const migrate = await cli(['migrate'], { env });
    expect(migrate.stdout.trim()).toBe('Already up to date.');
  }, 180_000);
});
