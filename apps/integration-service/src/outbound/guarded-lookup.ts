import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { checkAddress, type DestinationPolicy } from './destination-policy.js';
import { parseIp } from './ip-address.js';

/** The part of `dns.promises.Resolver` the sender needs; inject one to use a specific DNS server. */
export interface AddressResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
}

/** A name that did not resolve; kept apart from socket errors (a DNS server's ECONNREFUSED is not the receiver's). */
export class DnsLookupError extends Error {
  constructor(
    readonly hostname: string,
    readonly dnsCode: string,
  ) {
    super(`DNS lookup of ${hostname} failed: ${dnsCode}`);
    this.name = 'DnsLookupError';
  }
}

/**
 * A `lookup` for `net.connect` that resolves the name and refuses it unless every address is
 * allowed, so the address checked is the address connected to: no cache, no earlier resolution to
 * race with (DNS rebinding), and a name with one public and one private answer is refused outright.
 */
export function createGuardedLookup(options: {
  policy: DestinationPolicy;
  resolver?: AddressResolver;
  /** False only for an allowlisted host:port: resolve, but do not judge the addresses. */
  check: boolean;
}): LookupFunction {
  return (hostname: string, lookupOptions: LookupOptions, callback) => {
    resolveAll(hostname, options.resolver)
      .then((found) => {
        const wanted = found.filter(
          (entry) => !lookupOptions.family || entry.family === lookupOptions.family,
        );
        if (wanted.length === 0) throw new DnsLookupError(hostname, 'ENODATA');
        if (options.check) {
          for (const entry of wanted) {
            const address = parseIp(entry.address);
            if (!address) throw new DnsLookupError(hostname, 'EBADRESP');
            checkAddress(options.policy, address, `${hostname} (${entry.address})`);
          }
        }
        if (lookupOptions.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, ''));
  };
}

async function resolveAll(hostname: string, resolver?: AddressResolver): Promise<LookupAddress[]> {
  if (!resolver) {
    try {
      return await dns.lookup(hostname, { all: true, order: 'verbatim' });
    } catch (error) {
      throw new DnsLookupError(hostname, (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN');
    }
  }
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
  const addresses = [
    ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
    ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
  ];
  if (addresses.length > 0) return addresses;
  const failure = [v4, v6].find((result) => result.status === 'rejected') as
    PromiseRejectedResult | undefined;
  throw new DnsLookupError(hostname, (failure?.reason as NodeJS.ErrnoException)?.code ?? 'ENOTFOUND');
}
