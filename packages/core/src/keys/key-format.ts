import { hash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_PREFIX = 'ora_sk_';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^ora_sk_[0-9A-Za-z]{38}$/;

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_LENGTH);
}

/** A new secret: `ora_sk_` + 32 random base62 characters + a 6-character CRC32 checksum. */
export function generateSecret(): string {
  let random = '';
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[randomInt(62)];
  return `${KEY_PREFIX}${random}${checksum(random)}`;
}

/** Shape and checksum hold: a typo or a made-up string is refused without a database query. */
export function isWellFormedSecret(secret: string): boolean {
  if (!KEY_PATTERN.test(secret)) return false;
  const random = secret.slice(KEY_PREFIX.length, KEY_PREFIX.length + RANDOM_LENGTH);
  return secret.slice(KEY_PREFIX.length + RANDOM_LENGTH) === checksum(random);
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** What lists show of a key: enough to recognise it, far too little to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 8);
}
