import { DestinationRefusedError } from './destination-policy.js';
import { DnsLookupError } from './guarded-lookup.js';

/** Why an outbound request got no HTTP response. Only `refused_destination` is not worth retrying. */
export type OutboundErrorKind =
  'refused_destination' | 'dns_failure' | 'timeout' | 'connection_error' | 'tls_error';

export class OutboundTimeoutError extends Error {
  constructor(
    readonly phase: 'connect' | 'total',
    readonly timeoutMs: number,
  ) {
    super(`${phase === 'connect' ? 'connecting' : 'the request'} took longer than ${timeoutMs} ms`);
    this.name = 'OutboundTimeoutError';
  }
}

// OpenSSL and Node TLS error codes: certificate problems, handshake failures, a plain-HTTP peer.
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$)/;

export function classifyOutboundError(error: unknown): {
  kind: OutboundErrorKind;
  message: string;
  code?: string;
} {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DestinationRefusedError)
    return { kind: 'refused_destination', message, code: error.reason };
  if (error instanceof DnsLookupError) return { kind: 'dns_failure', message, code: error.dnsCode };
  if (error instanceof OutboundTimeoutError)
    return { kind: 'timeout', message, code: `${error.phase}_timeout` };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && TLS_CODE.test(code)) return { kind: 'tls_error', message, code };
  return { kind: 'connection_error', message, code };
}
