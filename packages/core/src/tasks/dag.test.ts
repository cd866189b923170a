import { describe, expect, it } from 'vitest';
import { planDag } from './dag';

const step = (ref: string, dependsOn: string[] = []) => ({ ref, taskType: 'test.noop', title: ref, dependsOn });

describe('planDag', () => {
  it('orders fan-out and fan-in steps after their dependencies', () => {
    const order = planDag([
      step('publish', ['seo', 'image']),
      step('seo', ['draft']),
      step('image', ['draft']),
      step('draft'),
    ]);
    const position = (ref: string) => order.findIndex((p) => p.step.ref === ref);
    expect(position('draft')).toBeLessThan(position('seo'));
    expect(position('draft')).toBeLessThan(position('image'));
    expect(position('seo')).toBeLessThan(position('publish'));
    expect(position('image')).toBeLessThan(position('publish'));
  });

  it('refuses cycles, self references, duplicate refs and unknown references', () => {
    expect(() => planDag([step('a', ['b']), step('b', ['c']), step('c', ['a'])])).toThrow(/cycle/);
    expect(() => planDag([step('a', ['a'])])).toThrow(/itself/);
    expect(() => planDag([step('a'), step('a')])).toThrow(/share the ref/);
    expect(() => planDag([step('a', ['nope'])])).toThrow(/neither a ref/);
  });

  it('keeps ids of existing tasks as outside dependencies', () => {
    const id = '0b7e7d7c-3c1b-4b7a-9c1e-2f2d3e4f5a6b';
    expect(planDag([step('a', [id])])[0]?.existingDeps).toEqual([id]);
  });
});
