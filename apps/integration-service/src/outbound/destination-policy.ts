import { cidrContains, parseCidr, parseIp, type Cidr, type IpAddress } from './ip-address.js';
import { classifyAddress } from './special-ranges.js';

/**
 * Where outbound requests may go. Public addresses only, unless an explicit allowlist entry says
 * otherwise — for development and tests (a receiver on loopback), never a default.
 *
 * Allowlist entries: a CIDR or single address (`127.0.0.0/8`, `::1`) lets that address range be
 * connected to; `host:port` (`localhost:8080`, `[::1]:9000`) lets exactly that URL host and port
 * through whatever it resolves to.
 */
export interface DestinationPolicy {
  ranges: Cidr[];
  hostPorts: Set<string>;
}

export type DestinationRefusalReason =
  'invalid_url' | 'scheme_not_allowed' | 'credentials_in_url' | 'special_address' | 'local_hostname';

/** A destination the policy refuses; `detail` is safe to log and to show to the endpoint's owner. */
export class DestinationRefusedError extends Error {
  readonly code = 'ERR_DESTINATION_REFUSED';
  constructor(
    readonly reason: DestinationRefusalReason,
    readonly detail: string,
  ) {
    super(`destination refused: ${detail}`);
    this.name = 'DestinationRefusedError';
  }
}

/** Parses allowlist entries (e.g. from configuration); throws listing the first bad one. */
export function createDestinationPolicy(allow: readonly string[] = []): DestinationPolicy {
  const policy: DestinationPolicy = { ranges: [], hostPorts: new Set() };
  for (const raw of allow.map((entry) => entry.trim()).filter(Boolean)) {
    const hostPort = /^(\[[0-9a-f:.]+\]|[^:/\s]+):(\d{1,5})$/i.exec(raw);
    if (hostPort && !parseIp(raw)) {
      policy.hostPorts.add(`${hostPort[1].toLowerCase()}:${Number(hostPort[2])}`);
      continue;
    }
    try {
      policy.ranges.push(parseCidr(raw));
    } catch {
      throw new Error(`outbound allowlist entry "${raw}" is neither a CIDR nor host:port`);
    }
  }
  return policy;
}

const ALLOWED_SCHEMES = new Set(['http:', 'https:']);

/**
 * Checks what can be checked without DNS: scheme, credentials, a literal IP host (in any spelling —
 * WHATWG URL parsing turns `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` into `127.0.0.1`) and
 * `localhost` names (RFC 6761). Names are checked again, by address, at connect time.
 */
export function validateDestinationUrl(url: string | URL, policy: DestinationPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DestinationRefusedError('invalid_url', 'not a valid absolute URL');
  }
  if (!ALLOWED_SCHEMES.has(parsed.protocol)) {
    throw new DestinationRefusedError('scheme_not_allowed', `scheme ${parsed.protocol} is not http or https`);
  }
  if (parsed.username || parsed.password) {
    throw new DestinationRefusedError('credentials_in_url', 'URLs must not carry credentials');
  }
  if (isHostPortAllowed(policy, parsed)) return parsed;
  const literal = parseIp(parsed.hostname);
  if (literal) {
    checkAddress(policy, literal, parsed.hostname);
  } else if (/(^|\.)localhost\.?$/i.test(parsed.hostname)) {
    throw new DestinationRefusedError('local_hostname', `${parsed.hostname} is a loopback name`);
  }
  return parsed;
}

export function isHostPortAllowed(policy: DestinationPolicy, url: URL): boolean {
  if (policy.hostPorts.size === 0) return false;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return policy.hostPorts.has(`${url.hostname.toLowerCase()}:${port}`);
}

/** Throws DestinationRefusedError unless the address is public or inside an allowlisted range. */
export function checkAddress(policy: DestinationPolicy, address: IpAddress, shown: string): void {
  if (policy.ranges.some((allowed) => cidrContains(allowed, address))) return;
  const verdict = classifyAddress(address);
  if (!verdict.allowed) {
    throw new DestinationRefusedError('special_address', `${shown} is in a ${verdict.range} range`);
  }
}
