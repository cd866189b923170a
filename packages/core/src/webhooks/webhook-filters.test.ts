import type { OraEvent } from '@ora/contracts';
import { describe, expect, it } from 'vitest';
import { webhookRetryDelayMs } from './webhook-delivery';
import { webhookWants } from './webhook-dispatcher';
import { parseRetryAfter } from './webhook-http';

const agentA = '11111111-1111-4111-8111-111111111111';
const agentB = '22222222-2222-4222-8222-222222222222';
const created = new Date('2026-01-01T00:00:00Z');

function event(type: string, payload: Record<string, unknown>, agentId: string | null = null): OraEvent {
  return {
    id: '33333333-3333-4333-8333-333333333333',
    seq: '7',
    type,
    version: 1,
    payload,
    agentId,
    taskId: null,
    createdAt: '2026-01-02T00:00:00.000Z',
  };
}

const hook = (events: string[], filters: unknown = {}, agent_id: string | null = null) => ({
  id: 'w',
  events,
  filters,
  agent_id,
  created_at: created,
});

describe('which events a webhook wants', () => {
  it('matches exact types, <domain>.* and *', () => {
    const done = event('task.completed', { taskType: 'write_post' });
    expect(webhookWants(hook(['task.completed']), done)).toBe(true);
    expect(webhookWants(hook(['task.*']), done)).toBe(true);
    expect(webhookWants(hook(['*']), done)).toBe(true);
    expect(webhookWants(hook(['task.failed', 'lead.*']), done)).toBe(false);
  });

  it('filters by agent, task type and payload fields', () => {
    const done = event('task.completed', { taskType: 'write_post', status: 'success' }, agentA);
    expect(webhookWants(hook(['task.*'], { agentIds: [agentA] }), done)).toBe(true);
    expect(webhookWants(hook(['task.*'], { agentIds: [agentB] }), done)).toBe(false);
    expect(webhookWants(hook(['task.*'], { taskTypes: ['write_post', 'publish_post'] }), done)).toBe(true);
    expect(webhookWants(hook(['task.*'], { taskTypes: ['optimize_seo'] }), done)).toBe(false);
    expect(webhookWants(hook(['task.*'], { payload: { status: 'success' } }), done)).toBe(true);
    expect(webhookWants(hook(['task.*'], { payload: { status: ['error', 'success'] } }), done)).toBe(true);
    expect(webhookWants(hook(['task.*'], { payload: { status: 'error' } }), done)).toBe(false);
    expect(webhookWants(hook(['task.*'], { payload: { missing: 'x' } }), done)).toBe(false);
  });

  it("gives a webhook of an agent-bound key only that agent's events, and none older than the webhook", () => {
    expect(webhookWants(hook(['*'], {}, agentA), event('task.started', {}, agentA))).toBe(true);
    expect(webhookWants(hook(['*'], {}, agentA), event('task.started', {}, agentB))).toBe(false);
    expect(webhookWants(hook(['*'], {}, agentA), event('post.published', {}))).toBe(false);
    const old = { ...event('lead.created', {}), createdAt: '2025-12-31T23:59:59.000Z' };
    expect(webhookWants(hook(['*']), old)).toBe(false);
  });
});

describe('retry timing', () => {
  it('follows the schedule (the last delay repeating) with up to 10% jitter, never earlier', () => {
    const schedule = [60, 300, 3600];
    expect(webhookRetryDelayMs(schedule, 1, () => 0)).toBe(60_000);
    expect(webhookRetryDelayMs(schedule, 2, () => 0.999)).toBeCloseTo(330_000, -2);
    expect(webhookRetryDelayMs(schedule, 3, () => 0.5)).toBe(3_780_000);
    expect(webhookRetryDelayMs(schedule, 9, () => 0)).toBe(3_600_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
