/**
 * Deterministic SEO checks of a post: title and meta description length, headings, focus keyword
 * placement and density, readability (Flesch reading ease), links, image alt text, slug, length.
 * No model involved: the SEO agent reads this report and suggests the changes.
 */

export interface SeoInput {
  title: string;
  slug: string;
  body: string;
  excerpt: string | null;
  seo: { metaTitle: string | null; metaDescription: string | null; keywords: string[] };
  cover: { alt: string | null } | null;
}

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface SeoCheck {
  id: string;
  status: CheckStatus;
  message: string;
}

export interface SeoReport {
  score: number;
  keyword: string | null;
  wordCount: number;
  readability: { fleschReadingEase: number; averageSentenceWords: number };
  links: { internal: number; external: number };
  checks: SeoCheck[];
}

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;

/** Markdown reduced to its prose: no code, images, link targets, markup characters. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, ' ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, ' ')
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, '')
    .replace(/[*_~]/g, '');
}

export function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** Syllables of an English word, by vowel groups (the usual heuristic). */
export function syllables(word: string): number {
  const w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (w.length <= 3) return 1;
  const trimmed = w.replace(/(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$/, '').replace(/^y/, '');
  return Math.max(1, (trimmed.match(/[aeiouy]{1,2}/g) ?? []).length);
}

/** Flesch reading ease (higher is easier; 60-70 is plain English) and average sentence length. */
export function readability(text: string): { fleschReadingEase: number; averageSentenceWords: number } {
  const sentences = text
    .split(/[.!?]+(?:\s|$)|\n{2,}/)
    .map((s) => s.trim())
    .filter((s) => words(s).length > 0);
  const all = words(text);
  if (all.length === 0 || sentences.length === 0) return { fleschReadingEase: 0, averageSentenceWords: 0 };
  const perSentence = all.length / sentences.length;
  const perWord = all.reduce((n, w) => n + syllables(w), 0) / all.length;
  const ease = 206.835 - 1.015 * perSentence - 84.6 * perWord;
  return {
    fleschReadingEase: Math.round(Math.max(0, Math.min(100, ease)) * 10) / 10,
    averageSentenceWords: Math.round(perSentence * 10) / 10,
  };
}

const contains = (haystack: string | null | undefined, needle: string) =>
  !!haystack && haystack.toLowerCase().includes(needle.toLowerCase());

function ranged(value: number, pass: [number, number], warn: [number, number]): CheckStatus {
  if (value >= pass[0] && value <= pass[1]) return 'pass';
  if (value >= warn[0] && value <= warn[1]) return 'warn';
  return 'fail';
}

export function analyzeSeo(post: SeoInput, focusKeyword?: string | null): SeoReport {
  const checks: SeoCheck[] = [];
  const add = (id: string, status: CheckStatus, message: string) => checks.push({ id, status, message });
  const text = plainText(post.body);
  const bodyWords = words(text);
  const wordCount = bodyWords.length;

  const title = post.seo.metaTitle ?? post.title;
  const titleStatus = ranged(title.length, [30, 60], [20, 70]);
  add(
    'title_length',
    titleStatus,
    `The ${post.seo.metaTitle ? 'meta title' : 'title'} is ${title.length} characters${titleStatus === 'pass' ? '' : '; aim for 30 to 60 so results do not cut it'}`,
  );

  const description = post.seo.metaDescription ?? null;
  if (!description) {
    add('meta_description', 'fail', 'No meta description: write one of 120 to 160 characters that sums the post up');
  } else {
    const status = ranged(description.length, [120, 160], [70, 200]);
    add(
      'meta_description',
      status,
      `The meta description is ${description.length} characters${status === 'pass' ? '' : '; aim for 120 to 160'}`,
    );
  }

  const headings = [...post.body.matchAll(/^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$/gm)].map((m) => ({
    level: (m[1] as string).length,
    text: m[2] as string,
  }));
  const h1s = headings.filter((h) => h.level === 1).length;
  const subheadings = headings.filter((h) => h.level === 2).length;
  let skipped = false;
  for (let i = 1; i < headings.length; i++) {
    if ((headings[i]?.level ?? 0) > (headings[i - 1]?.level ?? 0) + 1) skipped = true;
  }
  if (h1s > 0)
    add('headings', 'warn', `The body has ${h1s} level-1 heading(s); the title is the page's H1, use ## in the body`);
  else if (wordCount > 300 && subheadings < 2) {
    add(
      'headings',
      'warn',
      `Only ${subheadings} ## subheading(s) for ${wordCount} words; break the post into sections`,
    );
  } else if (skipped) add('headings', 'warn', 'A heading level is skipped (e.g. ## then ####)');
  else add('headings', 'pass', `${headings.length} heading(s), in order`);

  const keyword = (focusKeyword ?? post.seo.keywords[0] ?? '').trim() || null;
  if (!keyword) {
    add('keyword', 'warn', 'No focus keyword: set seo.keywords so the checks can place it');
  } else {
    const firstParagraph = words(text).slice(0, 100).join(' ');
    add(
      'keyword_title',
      contains(title, keyword) ? 'pass' : 'fail',
      `"${keyword}" ${contains(title, keyword) ? 'is' : 'is not'} in the title`,
    );
    add(
      'keyword_description',
      contains(description, keyword) ? 'pass' : 'warn',
      `"${keyword}" ${contains(description, keyword) ? 'is' : 'is not'} in the meta description`,
    );
    add(
      'keyword_intro',
      contains(firstParagraph, keyword) ? 'pass' : 'warn',
      `"${keyword}" ${contains(firstParagraph, keyword) ? 'appears' : 'does not appear'} in the first 100 words`,
    );
    const slugWords = keyword.toLowerCase().split(/\W+/).filter(Boolean);
    const inSlug = slugWords.every((w) => post.slug.includes(w));
    add('keyword_slug', inSlug ? 'pass' : 'warn', `The slug ${inSlug ? 'contains' : 'does not contain'} "${keyword}"`);
    const inHeading = headings.some((h) => contains(h.text, keyword));
    add('keyword_heading', inHeading ? 'pass' : 'warn', `"${keyword}" ${inHeading ? 'is' : 'is not'} in a subheading`);
    const needle = keyword.toLowerCase();
    const occurrences = text.toLowerCase().split(needle).length - 1;
    const density = wordCount ? (occurrences * words(keyword).length * 100) / wordCount : 0;
    const rounded = Math.round(density * 100) / 100;
    const status = ranged(density, [0.5, 2.5], [0.2, 3.5]);
    add(
      'keyword_density',
      status,
      `"${keyword}" is ${rounded}% of the words (${occurrences} time(s))${status === 'pass' ? '' : '; aim for 0.5% to 2.5%'}`,
    );
  }

  const read = readability(text);
  add(
    'readability',
    read.fleschReadingEase >= 60 ? 'pass' : read.fleschReadingEase >= 40 ? 'warn' : 'fail',
    `Flesch reading ease ${read.fleschReadingEase} (60+ reads easily), ${read.averageSentenceWords} words per sentence`,
  );
  if (read.averageSentenceWords > 25) add('sentence_length', 'warn', 'Sentences run long; keep most under 20 words');

  const links = [...post.body.matchAll(/(?<!!)\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g)];
  const external = links.filter((l) => /^https?:\/\//i.test(l[2] as string)).length;
  const internal = links.length - external;
  const vague = links.filter((l) => /^\s*(click here|here|link|this)\s*$/i.test(l[1] as string)).length;
  if (links.length === 0) add('links', 'warn', 'No links: link related posts and sources');
  else if (vague) add('links', 'warn', `${vague} link(s) with vague text ("click here"); describe the target`);
  else add('links', 'pass', `${internal} internal and ${external} external link(s)`);

  const images = [...post.body.matchAll(/!\[([^\]]*)\]\([^)]*\)/g)];
  const missingAlt = images.filter((m) => !(m[1] as string).trim()).length + (post.cover && !post.cover.alt ? 1 : 0);
  add(
    'image_alt',
    missingAlt ? 'warn' : 'pass',
    missingAlt ? `${missingAlt} image(s) without alt text` : 'Every image has alt text',
  );

  const slugWordCount = post.slug.split('-').filter(Boolean).length;
  add(
    'slug',
    post.slug.length <= 75 && slugWordCount <= 8 ? 'pass' : 'warn',
    `The slug "${post.slug}" has ${slugWordCount} word(s), ${post.slug.length} characters${post.slug.length > 75 || slugWordCount > 8 ? '; shorten it' : ''}`,
  );

  add(
    'length',
    wordCount >= 300 ? 'pass' : wordCount >= 150 ? 'warn' : 'fail',
    `${wordCount} words${wordCount >= 300 ? '' : '; posts under 300 words rarely rank'}`,
  );

  const points = checks.reduce((n, c) => n + (c.status === 'pass' ? 1 : c.status === 'warn' ? 0.5 : 0), 0);
  return {
    score: Math.round((points / checks.length) * 100),
    keyword,
    wordCount,
    readability: read,
    links: { internal, external },
    checks,
  };
}
