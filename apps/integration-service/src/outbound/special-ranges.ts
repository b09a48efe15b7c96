import { cidrContains, embeddedIpv4, parseCidr, type Cidr, type IpAddress } from './ip-address.js';

/**
 * Which addresses a webhook may be delivered to. Built from the IANA special-purpose registries
 * (https://www.iana.org/assignments/iana-ipv4-special-registry,
 * https://www.iana.org/assignments/iana-ipv6-special-registry) plus cloud metadata endpoints.
 * IPv6 is allowed only inside global unicast 2000::/3; the forms that carry an IPv4 address
 * (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they carry.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

interface NamedRange {
  cidr: Cidr;
  name: string;
  /** For IPv6 forms carrying an IPv4 address: the bit position of that address. */
  embedsIpv4At?: number;
}

const range = (cidr: string, name: string, embedsIpv4At?: number): NamedRange => ({
  cidr: parseCidr(cidr),
  name,
  embedsIpv4At,
});

// Most specific first: the first match names the verdict.
const IPV4_REFUSED: NamedRange[] = [
  range('169.254.169.254/32', 'cloud metadata'),
  range('168.63.129.16/32', 'cloud metadata (Azure)'),
  range('0.0.0.0/8', 'this network'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'shared address space (CGNAT)'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', 'deprecated 6to4 relay anycast'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('255.255.255.255/32', 'broadcast'),
  range('240.0.0.0/4', 'reserved'),
];

const IPV6_SPECIAL: NamedRange[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::ffff:0:0/96', 'IPv4-mapped', 0),
  range('::/96', 'IPv4-compatible (deprecated)'),
  range('64:ff9b::/96', 'NAT64', 0),
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  range('2001::/32', 'Teredo'),
  range('2001:2::/48', 'benchmarking'),
  range('2001:db8::/32', 'documentation'),
  range('2001::/23', 'IETF protocol assignments'),
  range('2002::/16', '6to4', 80),
  range('3fff::/20', 'documentation'),
  range('5f00::/16', 'segment routing (SRv6)'),
  range('fd00:ec2::254/128', 'cloud metadata (AWS)'),
  range('fc00::/7', 'unique local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated)'),
  range('ff00::/8', 'multicast'),
];

const GLOBAL_UNICAST = parseCidr('2000::/3');

export function classifyAddress(address: IpAddress): AddressVerdict {
  if (address.family === 4) {
    const match = IPV4_REFUSED.find((entry) => cidrContains(entry.cidr, address));
    return match ? { allowed: false, range: match.name } : { allowed: true };
  }
  const match = IPV6_SPECIAL.find((entry) => cidrContains(entry.cidr, address));
  if (match?.embedsIpv4At !== undefined) {
    const inner = classifyAddress(embeddedIpv4(address, match.embedsIpv4At));
    return inner.allowed ? inner : { allowed: false, range: `${match.name} of ${inner.range}` };
  }
  if (match) return { allowed: false, range: match.name };
  if (!cidrContains(GLOBAL_UNICAST, address))
    return { allowed: false, range: 'reserved (not global unicast)' };
  return { allowed: true };
}
