import { normalizeText, STOPWORDS, stem, words } from './text';

export interface SummaryMessage {
  role: string;
  content: string;
}

export interface SummaryOptions {
  maxTokens: number;
  /** Token counter (e.g. from `loadTokenCounter`). */
  count: (text: string) => number;
  /** The summary so far: it is kept at the top (cut to half the budget at most). */
  previous?: string | null;
}

/**
 * An extractive summary, made without a model: the thread's most representative sentences (those
 * whose words recur most across it, user requests slightly preferred), kept in their original
 * order with who said them, within a token budget. A caller with a model can pass its own
 * summary instead; this one keeps ORA working offline.
 */
export function extractiveSummary(messages: readonly SummaryMessage[], options: SummaryOptions): string {
  const lines: string[] = [];
  let budget = options.maxTokens;
  if (options.previous) {
    const previous = cutToTokens(options.previous, Math.floor(options.maxTokens / 2), options.count);
    lines.push(previous);
    budget -= options.count(previous);
  }

  const sentences: Array<{ order: number; text: string; terms: string[]; first: boolean; role: string }> = [];
  const frequency = new Map<string, number>();
  messages.forEach((message, index) => {
    const parts = message.content
      .split(/(?<=[.!?])\s+|\n+/)
      .map((s) => s.trim())
      .filter(Boolean);
    parts.forEach((text, position) => {
      const terms = words(normalizeText(text))
        .filter((w) => !STOPWORDS.has(w))
        .map(stem);
      if (terms.length < 3) return;
      sentences.push({ order: index * 10_000 + position, text, terms, first: position === 0, role: message.role });
      for (const term of new Set(terms)) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    });
  });

  const scored = sentences
    .map((s) => {
      let score = 0;
      for (const term of new Set(s.terms)) score += frequency.get(term) ?? 0;
      score /= Math.sqrt(s.terms.length);
      if (s.role === 'user') score *= 1.2;
      if (s.first) score *= 1.1;
      return { ...s, score };
    })
    .sort((a, b) => b.score - a.score);

  const chosen: typeof scored = [];
  for (const sentence of scored) {
    const line = `${sentence.role}: ${sentence.text}`;
    const cost = options.count(line) + 1;
    if (cost > budget) continue;
    chosen.push(sentence);
    budget -= cost;
  }
  chosen.sort((a, b) => a.order - b.order);
  lines.push(...chosen.map((s) => `${s.role}: ${s.text}`));
  return lines.join('\n');
}

function cutToTokens(text: string, maxTokens: number, count: (text: string) => number): string {
  if (count(text) <= maxTokens) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (count(text.slice(0, mid)) <= maxTokens) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low);
}
