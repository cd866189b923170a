import { once } from 'node:events';

/** Where a CLI run reads and writes: the real process, or a test's buffers. */
export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  /** All of standard input (for `--data -` and `ora login` without --key). */
  readStdin(): Promise<string>;
  /** The environment the CLI reads its settings from (ORA_URL, ORA_API_KEY, ORA_CONFIG, HOME...). */
  env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (`--data @file.json`) start here. */
  cwd: string;
  /** Aborted on Ctrl-C; commands that follow something (watch) stop cleanly. */
  readonly signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** A mistake in the command line: exit code 2, with the message and how to get help. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The help topic to point at (`ora <hint> --help`). */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const exitCodes = { ok: 0, apiError: 1, usage: 2, interrupted: 130 } as const;

/** The real process: stdout, stderr, stdin, process.env; Ctrl-C aborts `signal` once asked for. */
export function processIo(): CliIo {
  let controller: AbortController | undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    async readStdin() {
      if (process.stdin.isTTY) process.stderr.write('(reading standard input; end with Ctrl-D)\n');
      const chunks: Buffer[] = [];
      process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
      await once(process.stdin, 'end');
      return Buffer.concat(chunks).toString('utf8');
    },
    // Made on first use only: a SIGINT listener stops Node's default exit, which every other command wants.
    get signal() {
      if (!controller) {
        const made = new AbortController();
        controller = made;
        process.once('SIGINT', () => made.abort(new Error('interrupted')));
      }
      return controller.signal;
    },
  };
}
