import { describe, expect, it } from 'vitest';
import { analyzeSeo, plainText, readability, syllables } from './seo';

const good = {
  title: 'AI safety for small teams: a practical guide',
  slug: 'ai-safety-small-teams',
  excerpt: null,
  cover: { alt: 'A lighthouse' },
  seo: {
    metaTitle: null,
    metaDescription:
      'What AI safety means for a small team, why it matters when you ship models, and the three habits that keep your systems safe.',
    keywords: ['ai safety'],
  },
  body: [
    'AI safety is how a team makes its models do what people meant. This guide is short and plain.',
    '',
    '## Why ai safety matters',
    '',
    ...Array.from(
      { length: 30 },
      (_, i) =>
        `Teams ship fast and test less than they should, so small checks pay off. Read [step ${i}](/posts/step-${i}) first.`,
    ),
    '',
    '## Three habits',
    '',
    'Test the model. Red-team it. Watch it in production, and read [the paper](https://example.com/paper).',
  ].join('\n'),
};

describe('the SEO checks', () => {
  it('passes a well-made post on title, description, keyword placement, headings, links and slug', () => {
    const report = analyzeSeo(good);
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({
      title_length: 'pass',
      meta_description: 'pass',
      headings: 'pass',
      keyword_title: 'pass',
      keyword_description: 'pass',
      keyword_intro: 'pass',
      keyword_slug: 'pass',
      keyword_heading: 'pass',
      links: 'pass',
      image_alt: 'pass',
      slug: 'pass',
      length: 'pass',
    });
    expect(report.links).toEqual({ internal: 30, external: 1 });
    expect(report.score).toBeGreaterThanOrEqual(85);
  });

  it('fails a thin post with no description, an H1 in the body, a long slug and vague links', () => {
    const report = analyzeSeo({
      ...good,
      title: 'Hi',
      slug: 'this-is-a-very-long-slug-with-far-too-many-words-in-it-for-search',
      seo: { metaTitle: null, metaDescription: null, keywords: [] },
      cover: { alt: null },
      body: '# Hello\n\nShort. [click here](https://x.com) ![](a.png)',
    });
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({
      title_length: 'fail',
      meta_description: 'fail',
      headings: 'warn',
      keyword: 'warn',
      links: 'warn',
      image_alt: 'warn',
      slug: 'warn',
      length: 'fail',
    });
    expect(report.checks.find((c) => c.id === 'image_alt')?.message).toMatch(/2 image/);
    expect(report.score).toBeLessThan(50);
  });

  it('measures readability with the Flesch formula', () => {
    expect(syllables('cat')).toBe(1);
    expect(syllables('readability')).toBe(5);
    const easy = readability('The cat sat on the mat. It was warm. The sun was out.');
    const hard = readability(
      'Institutional considerations notwithstanding, comprehensive organizational transformation necessitates extraordinarily sophisticated implementation methodologies.',
    );
    expect(easy.fleschReadingEase).toBeGreaterThan(90);
    expect(hard.fleschReadingEase).toBeLessThan(10);
    expect(plainText('## Head\n\n[a link](http://x) `code` **bold**')).not.toMatch(/[#*`]|http/);
  });
});
