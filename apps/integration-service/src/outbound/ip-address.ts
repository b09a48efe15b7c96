import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses as integers, so ranges are compared by their bits and not by their spelling: every
 * textual form of an address (compressed IPv6, embedded dotted quad, zone id) parses to one value.
 */
export interface IpAddress {
  family: 4 | 6;
  /** The address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits. */
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** Parses a literal IPv4 or IPv6 address (brackets and a `%zone` suffix allowed); undefined otherwise. */
export function parseIp(text: string): IpAddress | undefined {
  let literal = text.trim();
  if (literal.startsWith('[') && literal.endsWith(']')) literal = literal.slice(1, -1);
  const zone = literal.indexOf('%');
  if (zone !== -1) literal = literal.slice(0, zone);
  if (isIPv4(literal)) return { family: 4, value: parseIpv4(literal) };
  if (isIPv6(literal)) return { family: 6, value: parseIpv6(literal) };
  return undefined;
}

function parseIpv4(literal: string): bigint {
  return literal.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function parseIpv6(literal: string): bigint {
  let text = literal;
  // A trailing dotted quad ("::ffff:127.0.0.1") stands for the last two 16-bit groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Parses `a.b.c.d/n` or `x::/n`; a bare address is a single-address range. Throws on anything else. */
export function parseCidr(text: string): Cidr {
  const slash = text.lastIndexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!address) throw new Error(`not an IP range: ${text}`);
  const bits = BITS[address.family];
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) throw new Error(`bad prefix length in ${text}`);
  return { family: address.family, network: maskTo(address.value, bits, prefix), prefix };
}

export function cidrContains(range: Cidr, address: IpAddress): boolean {
  if (range.family !== address.family) return false;
  return maskTo(address.value, BITS[address.family], range.prefix) === range.network;
}

function maskTo(value: bigint, bits: number, prefix: number): bigint {
  const shift = BigInt(bits - prefix);
  return (value >> shift) << shift;
}

/** The IPv4 address held in the given bit position of an IPv6 address (mapped, NAT64, 6to4). */
export function embeddedIpv4(address: IpAddress, lowestBit: number): IpAddress {
  return { family: 4, value: (address.value >> BigInt(lowestBit)) & 0xffffffffn };
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n)
    groups.push(((address.value >> shift) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
