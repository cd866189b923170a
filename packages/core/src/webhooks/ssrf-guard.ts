import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, isIPv6, type LookupFunction } from 'node:net';
import { OraError } from '@ora/contracts';

/**
 * Where a webhook may connect. Every address a host resolves to is checked, inside the lookup of
 * the very connection that is made (so a DNS answer that changes between the check and the
 * connect, "rebinding", has no window), at create, at update and at every delivery.
 */

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'cgnat'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

/** Classes that ORA_WEBHOOK_ALLOW_PRIVATE=true lets through (local development and tests). */
const PRIVATE_CLASSES = new Set<AddressClass>(['loopback', 'private', 'link-local', 'unique-local', 'cgnat']);

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has. Injected, so tests can change the answers. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The production resolver: the system's (getaddrinfo), every address. */
export const systemResolver: Resolver = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export interface TargetPolicy {
  allowPrivate: boolean;
  resolve: Resolver;
}

/** Thrown (as the connection's error) when a target address is not allowed. */
export class BlockedAddressError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_BLOCKED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    super(
      `${host} resolves to ${address} (${addressClass}), which webhooks may not reach` +
        (PRIVATE_CLASSES.has(addressClass) ? ' (ORA_WEBHOOK_ALLOW_PRIVATE=true permits it)' : ''),
    );
    this.name = 'BlockedAddressError';
  }
}

/**
 * An IPv4 address in any spelling inet_aton and the WHATWG URL parser accept: 1 to 4 parts, each
 * decimal, octal (leading 0) or hex (0x), the last filling the remaining bytes (`127.1`,
 * `2130706433`, `0177.0.0.1`, `0x7f.1`). Null when it is not one.
 */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts.at(-1) === '') parts.pop(); // a trailing dot is allowed
  if (parts.length === 0 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9]\d*)$/.test(part)) value = Number(part);
    else return null;
    if (!Number.isSafeInteger(value)) return null;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255)) return null;
  if (last >= 256 ** (4 - values.length)) return null;
  const bytes = [...values];
  for (let i = 4 - values.length - 1; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes;
}

/** The 16 bytes of an IPv6 address (zone id ignored), or null. */
export function parseIPv6(text: string): number[] | null {
  const address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!isIPv6(address)) return null;
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes its two hex groups.
  const hex = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'),
  );
  const [left = '', right] = hex.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const missing = 8 - l.length - r.length;
  if (missing < 0 || (right === undefined && missing !== 0)) return null;
  const words = [...l, ...new Array<number>(missing).fill(0), ...r];
  return words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff]);
}

function classifyV4([a = 0, b = 0, c = 0]: number[]): AddressClass {
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'cgnat';
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return 'reserved';
  if (a === 192 && b === 88 && c === 99) return 'reserved';
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return 'reserved';
  if (a === 198 && (b === 18 || b === 19)) return 'reserved';
  return 'public';
}

function classifyV6(bytes: number[]): AddressClass {
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((x) => x === 0);
  const word = (i: number) => ((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0);
  if (zeros(0, 16)) return 'unspecified';
  if (zeros(0, 15) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d: judged as the IPv4 address.
  if (zeros(0, 10) && word(5) === 0xffff) return classifyV4(bytes.slice(12));
  if (zeros(0, 8) && word(4) === 0xffff && word(5) === 0) return classifyV4(bytes.slice(12));
  // IPv4-compatible ::a.b.c.d (deprecated): never a real destination.
  if (zeros(0, 12)) return 'reserved';
  // NAT64 64:ff9b::/96 reaches the embedded IPv4 address; 64:ff9b:1::/48 is for local use.
  if (word(0) === 0x64 && word(1) === 0xff9b) {
    return zeros(4, 12) ? classifyV4(bytes.slice(12)) : word(2) === 1 ? 'private' : 'reserved';
  }
  // 6to4 2002:AABB:CCDD::/48 reaches the embedded IPv4 address.
  if (word(0) === 0x2002) return classifyV4(bytes.slice(2, 6));
  const first = bytes[0] ?? 0;
  if (first === 0xff) return 'multicast';
  if ((first & 0xfe) === 0xfc) return 'unique-local';
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80) return 'link-local';
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0xc0) return 'private'; // site-local (deprecated)
  if (word(0) === 0x100 && zeros(2, 8)) return 'reserved'; // discard-only 100::/64
  if (word(0) === 0x2001 && word(1) === 0xdb8) return 'reserved'; // documentation
  if (word(0) === 0x2001 && word(1) < 0x200) return 'reserved'; // Teredo, ORCHID, benchmarking, ...
  if ((first & 0xe0) !== 0x20) return 'reserved'; // outside global unicast 2000::/3
  return 'public';
}

/** What kind of address this is; null when `text` is no IP address. */
export function classifyAddress(text: string): AddressClass | null {
  const v6 = text.includes(':') ? parseIPv6(text) : null;
  if (v6) return classifyV6(v6);
  const v4 = parseIPv4(text);
  return v4 ? classifyV4(v4) : null;
}

/** The class that makes `address` off limits, or null when webhooks may reach it. */
export function blockedClass(address: string, allowPrivate: boolean): AddressClass | null {
  const kind = classifyAddress(address) ?? 'reserved';
  if (kind === 'public') return null;
  if (allowPrivate && PRIVATE_CLASSES.has(kind)) return null;
  return kind;
}

/** The host of a URL as a connection takes it (IPv6 without brackets). */
export function connectHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Resolves `host` with the policy's resolver and checks every address; answers them all. */
export async function resolveAllowed(host: string, policy: TargetPolicy): Promise<ResolvedAddress[]> {
  if (isIP(host)) {
    const kind = blockedClass(host, policy.allowPrivate);
    if (kind) throw new BlockedAddressError(host, host, kind);
    return [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  }
  const addresses = await policy.resolve(host);
  if (addresses.length === 0) {
    throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  }
  for (const { address } of addresses) {
    const kind = blockedClass(address, policy.allowPrivate);
    if (kind) throw new BlockedAddressError(host, address, kind);
  }
  return addresses;
}

/**
 * The `lookup` of a webhook connection: the addresses it connects to are the ones just checked.
 * (Node calls it with `all: true` when it races address families.)
 */
export function guardedLookup(policy: TargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, policy).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        const first = usable[0];
        if (!first) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        if (options.all) callback(null, usable as LookupAddress[]);
        else callback(null, first.address, first.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

/**
 * Checks a webhook URL when it is created or changed: http(s), no credentials, and a host whose
 * every address is allowed. Refusals are VALIDATION_ERRORs naming the reason.
 */
export async function assertWebhookUrl(raw: string, policy: TargetPolicy): Promise<URL> {
  const refuse = (message: string) =>
    new OraError({
      code: 'VALIDATION_ERROR',
      message: `url: ${message}`,
      details: { issues: [{ path: 'url', message, code: 'webhook_url' }] },
    });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('must be http or https');
  if (url.username || url.password) throw refuse('must not carry credentials');
  try {
    await resolveAllowed(connectHost(url), policy);
  } catch (error) {
    if (error instanceof BlockedAddressError) throw refuse(error.message);
    throw refuse(`${url.hostname} does not resolve (${(error as Error).message})`);
  }
  return url;
}
