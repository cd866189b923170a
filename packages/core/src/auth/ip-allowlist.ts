import { BlockList, isIP } from 'node:net';

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is the IPv4 address it carries. */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped?.[1] ?? ip;
}

/** Compiles a key's allowlist (addresses and CIDR blocks) once; `allows(ip)` is then cheap. */
export function compileAllowlist(entries: readonly string[] | null): ((ip: string | null) => boolean) | null {
  if (!entries || entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(normalizeIp(address), family);
    else list.addSubnet(address, Number(bits), family);
  }
  return (ip) => {
    if (!ip) return false;
    const candidate = normalizeIp(ip);
    const family = isIP(candidate) === 6 ? 'ipv6' : 'ipv4';
    return isIP(candidate) !== 0 && list.check(candidate, family);
  };
}
