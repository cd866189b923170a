import { describe, expect, it } from 'vitest';
import { displayPrefix, generateSecret, hashSecret, isWellFormedSecret } from './key-format';

describe('key format', () => {
  it('makes ora_sk_ + 32 random base62 characters + a 6-character checksum', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^ora_sk_[0-9A-Za-z]{38}$/);
    expect(isWellFormedSecret(secret)).toBe(true);
    expect(generateSecret()).not.toBe(secret);
  });

  it('recognises any one-character change by its checksum', () => {
    const secret = generateSecret();
    for (let i = 7; i < secret.length; i++) {
      const replacement = secret[i] === 'a' ? 'b' : 'a';
      expect(isWellFormedSecret(secret.slice(0, i) + replacement + secret.slice(i + 1))).toBe(false);
    }
    expect(isWellFormedSecret(`${secret}x`)).toBe(false);
    expect(isWellFormedSecret(secret.replace('ora_sk_', 'ora_pk_'))).toBe(false);
  });

  it('stores only a SHA-256 hash and shows only a short prefix', () => {
    const secret = generateSecret();
    expect(hashSecret(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(displayPrefix(secret)).toHaveLength(15);
    expect(secret.startsWith(displayPrefix(secret))).toBe(true);
  });
});
