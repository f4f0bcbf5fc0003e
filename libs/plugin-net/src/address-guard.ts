import { BlockList, isIP } from 'node:net';

/**
 * Address ranges a plugin must never reach on behalf of a tenant (SSRF), with the reason each is
 * blocked. Anything that is not a public unicast address is here: a fetch tool that can reach the
 * node's own network can read cloud metadata, internal admin UIs and databases.
 */
export const BLOCKED_RANGES: readonly { cidr: string; reason: string }[] = [
  { cidr: '0.0.0.0/8', reason: '"this network"; 0.0.0.0 reaches the local host on Linux' },
  { cidr: '10.0.0.0/8', reason: 'private network (RFC 1918)' },
  { cidr: '100.64.0.0/10', reason: 'carrier-grade NAT shared space (RFC 6598)' },
  { cidr: '127.0.0.0/8', reason: 'loopback' },
  { cidr: '169.254.0.0/16', reason: 'link-local, includes cloud metadata 169.254.169.254' },
  { cidr: '172.16.0.0/12', reason: 'private network (RFC 1918)' },
  { cidr: '192.0.0.0/24', reason: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', reason: 'documentation (TEST-NET-1)' },
  { cidr: '192.88.99.0/24', reason: '6to4 relay anycast' },
  { cidr: '192.168.0.0/16', reason: 'private network (RFC 1918)' },
  { cidr: '198.18.0.0/15', reason: 'benchmarking' },
  { cidr: '198.51.100.0/24', reason: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', reason: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', reason: 'multicast' },
  { cidr: '240.0.0.0/4', reason: 'reserved, includes broadcast 255.255.255.255' },
  { cidr: '::/128', reason: 'unspecified address' },
  { cidr: '::1/128', reason: 'loopback' },
  { cidr: '64:ff9b::/96', reason: 'NAT64, embeds an IPv4 address' },
  { cidr: '64:ff9b:1::/48', reason: 'local-use NAT64' },
  { cidr: '100::/64', reason: 'discard-only' },
  { cidr: '2001::/32', reason: 'Teredo, embeds an IPv4 address' },
  { cidr: '2001:db8::/32', reason: 'documentation' },
  { cidr: '2002::/16', reason: '6to4, embeds an IPv4 address' },
  { cidr: 'fc00::/7', reason: 'unique local, includes AWS metadata fd00:ec2::254' },
  { cidr: 'fe80::/10', reason: 'link-local' },
  { cidr: 'fec0::/10', reason: 'deprecated site-local' },
  { cidr: 'ff00::/8', reason: 'multicast' },
];

// IPv4-mapped IPv6 (::ffff:0:0/96) is not listed: check() judges the IPv4 address it carries. (Node's
// BlockList also matches plain IPv4 addresses against that range, so listing it would block all.)

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

export interface AddressGuardOptions {
  /**
   * Ranges allowed despite BLOCKED_RANGES (CIDR), e.g. `127.0.0.1/32` for a test server or a
   * platform that deliberately federates servers on its private network. Empty by default.
   */
  allow?: readonly string[];
}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address, prefix] = cidr.split('/');
  const version = isIP(address);
  if (version === 0 || prefix === undefined || !/^\d+$/.test(prefix)) throw new Error(`not a CIDR range: ${cidr}`);
  return { address, prefix: Number(prefix), family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const { address, prefix, family } = parseCidr(cidr);
    list.addSubnet(address, prefix, family);
  }
  return list;
}

/** The IPv4 address inside `::ffff:a.b.c.d` (or its hex form `::ffff:7f00:1`), if it is one. */
function mappedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** Decides whether an IP address may be connected to. Hostnames are never accepted here: resolve first. */
export class AddressGuard {
  private readonly blocked = BLOCKED_RANGES.map(({ cidr, reason }) => ({ list: blockList([cidr]), reason }));
  private readonly allowed: BlockList;

  constructor(options: AddressGuardOptions = {}) {
    this.allowed = blockList(options.allow ?? []);
  }

  check(address: string): AddressVerdict {
    // Strip an IPv6 zone (`fe80::1%eth0`): the zone does not change which range it is in.
    const bare = address.replace(/%.*$/, '');
    const version = isIP(bare);
    if (version === 0) return { allowed: false, reason: 'not an IP address' };
    // An IPv4-mapped IPv6 address reaches the IPv4 host it carries: judge that one.
    const mapped = version === 6 ? mappedIpv4(bare) : undefined;
    if (mapped) return this.check(mapped);
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(bare, family)) return { allowed: true };
    for (const { list, reason } of this.blocked) if (list.check(bare, family)) return { allowed: false, reason };
    return { allowed: true };
  }
}
