import type { MemoryType } from '@ora/contracts';
import { MemoryType as MemoryTypeSchema } from '@ora/contracts';
import { type Command, listOption, stringOption } from '../command';
import { UsageError } from '../io';
import { table } from '../render';

function preview(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(content);
}

const memorySearch: Command = {
  name: 'memory search',
  group: 'Daily use',
  summary: 'Search memories; each hit with its score and what made it up',
  usage: 'QUERY... [--type T[,T]] [--agent ID] [--limit N] [--mode auto|hybrid|fulltext|vector]',
  options: {
    type: { type: 'string', multiple: true, placeholder: 'T[,T]', description: MemoryTypeSchema.options.join(', ') },
    agent: { type: 'string', placeholder: 'ID', description: 'An agent\'s id; "null": ORA\'s own memory' },
    limit: { type: 'string', placeholder: 'N', description: '1..100 (default 10)' },
    mode: { type: 'string', placeholder: 'MODE', description: 'auto (default), hybrid, fulltext or vector' },
    'min-importance': { type: 'string', placeholder: '0..1' },
    archived: { type: 'boolean', description: 'Include archived memories' },
  },
  async run(ctx) {
    const query = ctx.positionals.join(' ').trim();
    if (!query) throw new UsageError('memory search needs words to search for', 'memory search');
    const types = listOption(ctx, 'type');
    for (const type of types ?? []) {
      if (!MemoryTypeSchema.safeParse(type).success) {
        throw new UsageError(
          `--type must be one of ${MemoryTypeSchema.options.join(', ')}; got "${type}"`,
          'memory search',
        );
      }
    }
    const mode = stringOption(ctx, 'mode');
    if (mode && !['auto', 'hybrid', 'fulltext', 'vector'].includes(mode)) {
      throw new UsageError(`--mode must be one of auto, hybrid, fulltext, vector; got "${mode}"`, 'memory search');
    }
    const numeric = (name: string, min: number, max: number, integer: boolean) => {
      const raw = stringOption(ctx, name);
      if (raw === undefined) return undefined;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
        throw new UsageError(`--${name} is a number from ${min} to ${max}; got "${raw}"`, 'memory search');
      }
      return value;
    };
    const limit = numeric('limit', 1, 100, true);
    const minImportance = numeric('min-importance', 0, 1, false);
    const agent = stringOption(ctx, 'agent');
    const result = await ctx.client().call('memory.search', {
      query,
      ...(types ? { types: types as MemoryType[] } : {}),
      ...(agent !== undefined ? { agentId: agent === 'null' ? null : agent } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(minImportance !== undefined ? { minImportance } : {}),
      ...(mode ? { mode: mode as 'auto' } : {}),
      ...(ctx.values.archived ? { includeArchived: true } : {}),
    });
    if (ctx.json) return ctx.out(JSON.stringify(result, null, 2));
    if (result.notice) ctx.note(result.notice);
    if (result.hits.length === 0) return ctx.out(`No memories match "${query}" (${result.mode} search).`);
    ctx.out(
      table(result.hits, [
        { header: 'SCORE', value: (h) => h.score.total.toFixed(3) },
        { header: 'REL', value: (h) => h.score.relevance.toFixed(2) },
        { header: 'IMP', value: (h) => h.score.importance.toFixed(2) },
        { header: 'REC', value: (h) => h.score.recency.toFixed(2) },
        { header: 'TYPE', value: (h) => h.memory.type },
        { header: 'KEY', value: (h) => h.memory.key, max: 40 },
        { header: 'CONTENT', value: (h) => preview(h.memory.content), max: 70 },
        { header: 'ID', value: (h) => h.memory.id },
      ]),
    );
    const w = result.weights;
    ctx.note(
      `${result.hits.length} hit${result.hits.length === 1 ? '' : 's'}, ${result.mode} search; score = ${w.relevance.toFixed(2)} relevance + ${w.importance.toFixed(2)} importance + ${w.recency.toFixed(2)} recency + ${w.frequency.toFixed(2)} frequency.`,
    );
  },
};

export const memoryCommands: Command[] = [memorySearch];
