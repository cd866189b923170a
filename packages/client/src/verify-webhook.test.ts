import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from './verify-webhook';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const library = new Webhook(secret);

/** Headers as the standardwebhooks library (any Standard Webhooks sender) makes them. */
function signed(id: string, body: string, at = new Date()) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': library.sign(id, at, body),
  };
}

describe('verifyWebhook', () => {
  it('verifies what the standardwebhooks library signs: JSON, unicode and empty bodies', () => {
    const unicode = JSON.stringify({ name: 'Zoë 日本 🚀' });
    expect(verifyWebhook(secret, signed('msg_1', unicode), unicode)).toEqual({ name: 'Zoë 日本 🚀' });
    expect(verifyWebhook(secret, signed('msg_2', unicode), Buffer.from(unicode))).toEqual({ name: 'Zoë 日本 🚀' });
    expect(verifyWebhook(secret, signed('msg_3', ''), '')).toBeUndefined();
  });

  it('reads headers from a Headers object or a Node header record, any case', () => {
    const body = '{"a":1}';
    const h = signed('msg_h', body);
    expect(verifyWebhook(secret, new Headers(h), body)).toEqual({ a: 1 });
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(verifyWebhook(secret, upper, body)).toEqual({ a: 1 });
  });

  it('refuses a one-byte change of body, id, timestamp or signature', () => {
    const body = '{"amount":100}';
    const h = signed('msg_x', body);
    const bad =
      (headers: Record<string, string>, b = body) =>
      () =>
        verifyWebhook(secret, headers, b);
    expect(bad(h, '{"amount":101}')).toThrow(WebhookVerificationError);
    expect(bad({ ...h, 'webhook-id': 'msg_y' })).toThrow(WebhookVerificationError);
    expect(bad({ ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 1) })).toThrow(
      WebhookVerificationError,
    );
    expect(bad({ ...h, 'webhook-timestamp': `${h['webhook-timestamp']}x` })).toThrow(WebhookVerificationError);
    expect(bad({ ...h, 'webhook-signature': `${h['webhook-signature']}!` })).toThrow(WebhookVerificationError);
  });

  it('enforces the timestamp tolerance both ways', () => {
    const body = '{}';
    const old = signed('msg_t', body, new Date(Date.now() - 10 * 60_000));
    expect(() => verifyWebhook(secret, old, body)).toThrow(/from now/);
    expect(verifyWebhook(secret, old, body, { toleranceSeconds: 3600 })).toEqual({});
    const future = signed('msg_f', body, new Date(Date.now() + 10 * 60_000));
    expect(() => verifyWebhook(secret, future, body)).toThrow(/from now/);
  });

  it('accepts any one of several signatures (a secret rotation) and refuses missing headers', () => {
    const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
    const body = '{"r":1}';
    const at = new Date();
    const h = signed('msg_r', body, at);
    const both = { ...h, 'webhook-signature': `${other.sign('msg_r', at, body)} ${h['webhook-signature']}` };
    expect(verifyWebhook(secret, both, body)).toEqual({ r: 1 });
    expect(() => verifyWebhook(secret, { 'webhook-id': 'x' }, body)).toThrow(/missing/);
  });
});
