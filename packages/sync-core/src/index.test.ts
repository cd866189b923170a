import type { SyncConversationData, SyncMemoryData } from '@ora/contracts';
import { describe, expect, it } from 'vitest';
import {
  chooseStrategy,
  isConflict,
  jsonEqual,
  laterSide,
  mergeConversationData,
  mergeJson,
  mergeMemoryData,
  mergeMessages,
  parseStrategyMap,
  settleConflict,
} from './index';

const memory = (content: unknown, updatedAt: string, extra: Partial<SyncMemoryData> = {}): SyncMemoryData => ({
  agentId: null,
  type: 'fact',
  key: 'k',
  content: content as SyncMemoryData['content'],
  summary: null,
  importance: 0.5,
  pinned: false,
  expiresAt: null,
  updatedAt,
  ...extra,
});
const early = '2026-11-25T10:00:00.000Z';
const late = '2026-11-25T11:00:00.000Z';

describe('conflict detection and strategy choice', () => {
  it('is a conflict exactly when the base version is not the current one', () => {
    expect(isConflict('5', '5')).toBe(false);
    expect(isConflict(null, null)).toBe(false);
    expect(isConflict('4', '5')).toBe(true);
    expect(isConflict(null, '5')).toBe(true);
    expect(isConflict('5', null)).toBe(true);
  });

  it('takes the request’s strategy, else the memory type’s, else last_write_wins', () => {
    const byType = { preference: 'manual', fact: 'merge' } as const;
    expect(chooseStrategy({ requested: 'server_wins', memoryType: 'fact', byType })).toBe('server_wins');
    expect(chooseStrategy({ memoryType: 'fact', byType })).toBe('merge');
    expect(chooseStrategy({ memoryType: 'skill', byType })).toBe('last_write_wins');
    expect(chooseStrategy({})).toBe('last_write_wins');
  });

  it('parses ORA_SYNC_STRATEGIES and names a bad entry', () => {
    expect(parseStrategyMap('preference=manual, fact=merge')).toEqual({ preference: 'manual', fact: 'merge' });
    expect(parseStrategyMap('')).toEqual({});
    expect(() => parseStrategyMap('fact=sometimes')).toThrow(/"fact=sometimes"/);
    expect(() => parseStrategyMap('facts=merge')).toThrow(/memory type/);
    expect(() => parseStrategyMap('fact=merge,fact=manual')).toThrow(/twice/);
  });

  it('last write wins by updatedAt, the server on a tie', () => {
    expect(laterSide(late, early)).toBe('local');
    expect(laterSide(early, late)).toBe('server');
    expect(laterSide(early, early)).toBe('server');
    expect(laterSide(early, null)).toBe('local');
  });
});

describe('settling a conflict', () => {
  const local = { value: memory({ a: 1 }, late), updatedAt: late };
  const server = { value: memory({ b: 2 }, early), updatedAt: early };
  const merge = (l: SyncMemoryData, s: SyncMemoryData, later: 'local' | 'server') => mergeMemoryData(l, s, later);

  it('last_write_wins, server_wins, local_wins and manual pick their side', () => {
    expect(settleConflict('last_write_wins', local, server, merge)).toMatchObject({
      outcome: 'local_applied',
      value: local.value,
    });
    expect(settleConflict('last_write_wins', { ...local, updatedAt: early }, server, merge)).toMatchObject({
      outcome: 'server_kept',
      value: server.value,
    });
    expect(settleConflict('server_wins', local, server, merge)).toMatchObject({
      outcome: 'server_kept',
      value: server.value,
    });
    expect(settleConflict('local_wins', local, server, merge)).toMatchObject({
      outcome: 'local_applied',
      value: local.value,
    });
    expect(settleConflict('manual', local, server, merge)).toMatchObject({ outcome: 'pending', value: server.value });
  });

  it('merge merges two objects and falls back to last_write_wins for a deletion or a scalar', () => {
    const merged = settleConflict('merge', local, server, merge);
    expect(merged).toMatchObject({ outcome: 'merged', decidedBy: 'merge' });
    expect(merged.value?.content).toEqual({ a: 1, b: 2 });
    expect(settleConflict('merge', { value: null, updatedAt: late }, server, merge)).toMatchObject({
      outcome: 'local_applied',
      value: null,
      decidedBy: 'last_write_wins',
    });
    const scalar = settleConflict('merge', { value: memory('x', early), updatedAt: early }, server, merge);
    expect(scalar).toMatchObject({ outcome: 'server_kept', decidedBy: 'last_write_wins' });
  });
});

describe('merge rules', () => {
  it('keeps keys of either side, merges nested objects, and the later side wins a differing scalar', () => {
    expect(
      mergeJson(
        { a: 1, same: 's', both: 'l', n: { x: 1, k: 'l' } },
        { b: 2, same: 's', both: 's', n: { y: 2, k: 's' } },
        'local',
      ),
    ).toEqual({ a: 1, b: 2, same: 's', both: 'l', n: { x: 1, y: 2, k: 'l' } });
    expect(mergeJson({ both: 'l' }, { both: 's' }, 'server')).toEqual({ both: 's' });
    expect(mergeJson({ k: { deep: 1 } }, { k: 'scalar' }, 'local')).toEqual({ k: { deep: 1 } });
  });

  it('unions arrays by deep equality, in the later side’s order first', () => {
    expect(mergeJson(['a', 'b', { c: 1 }], ['b', 'd', { c: 1 }], 'local')).toEqual(['a', 'b', { c: 1 }, 'd']);
    expect(mergeJson(['a', 'b'], ['b', 'd'], 'server')).toEqual(['b', 'd', 'a']);
  });

  it('compares JSON deeply regardless of key order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });

  it('merges a memory’s other fields per field and keeps its identity the server’s', () => {
    const l = memory({ a: 1 }, late, { summary: 'local', importance: 0.9, pinned: true });
    const s = memory({ b: 1 }, early, { summary: 'server', importance: 0.9, pinned: false, key: 'k' });
    expect(mergeMemoryData(l, s)).toEqual({
      ...s,
      content: { a: 1, b: 1 },
      summary: 'local',
      importance: 0.9,
      pinned: true,
      updatedAt: late,
    });
    expect(mergeMemoryData(memory([1], late), s)).toBeUndefined();
  });

  it('merges a conversation’s fields per field', () => {
    const l: SyncConversationData = { agentId: null, title: 'local', status: 'active', updatedAt: early };
    const s: SyncConversationData = { agentId: null, title: 'server', status: 'completed', updatedAt: late };
    expect(mergeConversationData(l, s)).toEqual(s);
    expect(mergeConversationData({ ...l, updatedAt: '2026-11-25T12:00:00.000Z' }, s)).toMatchObject({
      title: 'local',
      status: 'active',
    });
  });

  it('unions messages by id, ordered by createdAt then id, the server’s copy of a shared id kept', () => {
    const m = (id: string, createdAt: string, content = id) => ({ id, createdAt, content });
    expect(
      mergeMessages(
        [m('b', early), m('c', late), m('x', early, 'local copy')],
        [m('a', early), m('x', early, 'server copy'), m('d', '2026-11-25T09:00:00.000Z')],
      ),
    ).toEqual([
      m('d', '2026-11-25T09:00:00.000Z'),
      m('a', early),
      m('b', early),
      m('x', early, 'server copy'),
      m('c', late),
    ]);
  });
});
