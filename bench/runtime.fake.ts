/**
 * The fake OpenAI server of `pnpm bench runtime`, in a process of its own (a real provider is not
 * in ORA's process either: its parsing and garbage would otherwise land in the figures). Answers
 * at once: a call of `bench_note` per step, text at the step given as the argument. Prints its base URL.
 */
import { startFakeOpenAI } from '@ora/testkit';

const steps = Number(process.argv[2] ?? '25');
const fake = await startFakeOpenAI();
fake.handle((req) => {
  // Keep nothing: a long bench would otherwise grow the request log without bound.
  fake.requests.length = 0;
  return req.toolResultCount + 1 >= steps
    ? { text: 'All noted.', usage: { input: 500, output: 20 } }
    : {
        toolCalls: [{ name: 'bench_note', arguments: { step: req.toolResultCount, text: 'a short note' } }],
        usage: { input: 500, output: 20 },
      };
});
process.stdout.write(`fake provider at ${fake.baseURL}\n`);
process.once('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
