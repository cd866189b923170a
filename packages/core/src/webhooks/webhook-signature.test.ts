import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, webhookHeaders } from './webhook-signature';

const now = () => Math.floor(Date.now() / 1000);

/** One byte of a string changed (the last one, to another printable byte). */
const flip = (s: string) => s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');

describe('Standard Webhooks signatures', () => {
  const secret = generateWebhookSecret();
  const library = new Webhook(secret);

  it('makes whsec_ secrets of 32 random bytes', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it.each([
    ['a JSON body', JSON.stringify({ type: 'task.completed', data: { n: 1 } })],
    ['a unicode body', JSON.stringify({ title: 'Ünïcödé — 日本語 🚀 ∑', emoji: '👩‍💻' })],
    ['an empty body', ''],
  ])('signs %s so that the standardwebhooks library verifies it', (_name, body) => {
    const ts = now();
    const headers = webhookHeaders([secret], 'msg_2b7a9c', ts, body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(library.verify(body, headers)).toEqual(body === '' ? undefined : JSON.parse(body));
    // The library's own signature is byte for byte ours.
    expect(library.sign('msg_2b7a9c', new Date(ts * 1000), body)).toBe(headers['webhook-signature']);
  });

  it('fails verification when one byte of the body, the id or the timestamp changes', () => {
    const body = JSON.stringify({ title: 'héllo wörld ✓' });
    const ts = now();
    const headers = webhookHeaders([secret], 'msg_abc', ts, body);
    expect(() => library.verify(flip(body.slice(0, -1)) + body.slice(-1), headers)).toThrow();
    const bytes = Buffer.from(body);
    bytes[3] = (bytes[3] as number) ^ 1;
    expect(() => library.verify(bytes.toString('utf8'), headers)).toThrow();
    expect(() => library.verify(body, { ...headers, 'webhook-id': flip('msg_abc') })).toThrow();
    expect(() => library.verify(body, { ...headers, 'webhook-timestamp': flip(String(ts)) })).toThrow();
    expect(() => library.verify('', webhookHeaders([secret], 'msg_abc', ts, ' '))).toThrow();
  });

  it('signs with both secrets during a rotation, and either verifies', () => {
    const next = generateWebhookSecret();
    const body = '{"ok":true}';
    const headers = webhookHeaders([next, secret], 'msg_rot', now(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify(body, headers)).toEqual({ ok: true });
    expect(new Webhook(secret).verify(body, headers)).toEqual({ ok: true });
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('signs raw bytes the same as their UTF-8 text', () => {
    const text = '{"name":"Zoë ☕"}';
    expect(signWebhook(secret, 'm', 1, Buffer.from(text))).toBe(signWebhook(secret, 'm', 1, text));
  });
});
