import { isOraError } from '@ora/contracts';
import { describe, expect, it } from 'vitest';
import { assertWebhookUrl, blockedClass, classifyAddress, parseIPv4, type Resolver } from './ssrf-guard';

const noDns: Resolver = async (host) => {
  throw new Error(`no DNS in this test (${host})`);
};

describe('the SSRF address matrix', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:100.64.0.1', 'cgnat'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:224.0.0.1', 'multicast'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a00:1::1', 'private'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['[::1]', 'loopback'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
    expect(blockedClass(address, false)).toBe(kind);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s is public and allowed', (address) => {
    expect(classifyAddress(address)).toBe('public');
    expect(blockedClass(address, false)).toBeNull();
  });

  it('reads every IPv4 spelling the URL parser and inet_aton accept', () => {
    expect(parseIPv4('2130706433')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('0177.0.0.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('0x7f.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('0x7f000001')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('127.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('127.0.1')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('10.0x10.1')).toEqual([10, 16, 0, 1]);
    expect(parseIPv4('017700000001')).toEqual([127, 0, 0, 1]);
    expect(parseIPv4('256.0.0.1')).toBeNull();
    expect(parseIPv4('example.com')).toBeNull();
    for (const spelling of ['2130706433', '0177.0.0.1', '0x7f.1', '127.1', '0x7f.0.0.1', '017700000001']) {
      expect(classifyAddress(spelling)).toBe('loopback');
    }
  });

  it('lets private classes through with ORA_WEBHOOK_ALLOW_PRIVATE, but never unspecified, multicast or reserved', () => {
    for (const ok of ['127.0.0.1', '10.0.0.1', '169.254.1.1', 'fd00::1', '100.64.0.1', '::ffff:127.0.0.1']) {
      expect(blockedClass(ok, true)).toBeNull();
    }
    for (const never of ['0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255']) {
      expect(blockedClass(never, true)).not.toBeNull();
    }
  });
});

describe('assertWebhookUrl', () => {
  const refused = async (url: string, resolve: Resolver = noDns) => {
    try {
      await assertWebhookUrl(url, { allowPrivate: false, resolve });
    } catch (error) {
      expect(isOraError(error) && error.code).toBe('VALIDATION_ERROR');
      return (error as Error).message;
    }
    throw new Error(`${url} was accepted`);
  };

  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://0x7f000001:8080/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://0.0.0.0/',
    'http://10.0.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://224.0.0.1/',
  ])('refuses %s, whatever the spelling, without any lookup', async (url) => {
    expect(await refused(url)).toMatch(/may not reach/);
  });

  it('refuses a name when any one of its addresses is private', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    expect(await refused('https://mixed.example/hook', resolve)).toMatch(/10\.0\.0\.7 \(private\)/);
  });

  it('refuses other schemes, credentials and names that do not resolve', async () => {
    expect(await refused('ftp://example.com/')).toMatch(/http or https/);
    expect(await refused('http://user:pw@example.com/')).toMatch(/credentials/);
    expect(await refused('http://nowhere.invalid/')).toMatch(/does not resolve/);
  });

  it('accepts a name whose every address is public', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ];
    const url = await assertWebhookUrl('https://example.com/hook', { allowPrivate: false, resolve });
    expect(url.hostname).toBe('example.com');
  });
});
