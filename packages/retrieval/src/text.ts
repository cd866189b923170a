/** Words the embedder and the budgeter treat as noise: too common to say what a text is about. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her ' +
    'here hers him his how i if in into is it its itself just me more most my no nor not of off on once only or ' +
    'other our ours out over own same she should so some such than that the their theirs them then there these ' +
    'they this those through to too under until up very was we were what when where which while who whom why ' +
    'will with would you your yours'
  ).split(' '),
);

/** Lower case, accents removed (é -> e), so "Café" and "cafe" are one word. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words of a normalised text: runs of letters and digits. */
export function words(normalized: string): string[] {
  return normalized.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * A light English suffix stripper (plural, -ing, -ed, -ly): enough that "publishing", "published"
 * and "publishes" share a word feature. Character n-grams catch what it misses.
 */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ing') && word.length > 5) return trimDouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4) return trimDouble(word.slice(0, -2));
  if (word.endsWith('ly') && word.length > 4) return word.slice(0, -2);
  if (word.endsWith('es') && /(?:ch|sh|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}

function trimDouble(word: string): string {
  const n = word.length;
  return n > 2 && word[n - 1] === word[n - 2] && !/[lsz]/.test(word[n - 1] ?? '') ? word.slice(0, -1) : word;
}

const MAX_TEXT_CHARS = 20_000;

/**
 * The plain text of a memory's JSON content, for full-text indexing and embedding: strings and
 * numbers in document order, object keys as words ("favoriteColor" reads "favorite color"), so
 * `{"favoriteColor": "teal"}` reads "favorite color: teal". Capped at 20,000 characters.
 */
export function contentToText(content: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const push = (part: string) => {
    if (length >= MAX_TEXT_CHARS || part === '') return;
    parts.push(part);
    length += part.length + 1;
  };
  const visit = (value: unknown, depth: number): void => {
    if (depth > 20 || length >= MAX_TEXT_CHARS) return;
    if (typeof value === 'string') push(value);
    else if (typeof value === 'number' || typeof value === 'boolean') push(String(value));
    else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (inner === null || inner === undefined) continue;
        const label = humanizeKey(key);
        if (typeof inner === 'object') {
          push(`${label}:`);
          visit(inner, depth + 1);
        } else {
          push(`${label}: ${typeof inner === 'string' ? inner : String(inner)}`);
        }
      }
    }
  };
  visit(content, 0);
  const text = parts.join('\n');
  return text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
}

/** A key as words: "favoriteColor" and "favorite_color" -> "favorite color", "user.tz" -> "user tz". */
export function humanizeKey(key: string): string {
  return key
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/[._:/\\-]+/g, ' ')
    .trim()
    .toLowerCase();
}
