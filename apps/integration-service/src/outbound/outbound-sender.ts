import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import {
  createDestinationPolicy,
  isHostPortAllowed,
  validateDestinationUrl,
  type DestinationPolicy,
} from './destination-policy.js';
import { createGuardedLookup, type AddressResolver } from './guarded-lookup.js';
import { classifyOutboundError, OutboundTimeoutError, type OutboundErrorKind } from './outbound-errors.js';
import { parseRetryAfter } from './retry-after.js';

export interface OutboundSenderOptions {
  /** Allowlist entries (CIDR or host:port) for development and tests; empty in production. */
  allow?: readonly string[];
  /** DNS used at connect time; default is the system resolver (getaddrinfo, /etc/hosts). */
  resolver?: AddressResolver;
  /** Until the connection (TLS included) is ready, DNS included. Default 5 s. */
  connectTimeoutMs?: number;
  /** Until the response headers and the excerpt are read. Default 15 s. */
  totalTimeoutMs?: number;
  /** Bytes of response body kept for the delivery log; the rest is not read. Default 4096. */
  maxExcerptBytes?: number;
  userAgent?: string;
  /** Extra trusted CA certificates (PEM), for tests against a local TLS receiver. */
  ca?: string | Buffer;
}

export interface OutboundRequest {
  url: string | URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface OutboundResponse {
  outcome: 'response';
  status: number;
  /** Lower-case names; repeated headers joined with ", "; set-cookie left out (not ours to log). */
  headers: Record<string, string>;
  latencyMs: number;
  /** The first maxExcerptBytes of the body, as UTF-8. */
  excerpt: string;
  /** True when the excerpt is not the whole body (too long, or the body broke off). */
  truncated: boolean;
  retryAfterMs?: number;
  remoteAddress?: string;
}

export interface OutboundFailure {
  outcome: 'failure';
  error: OutboundErrorKind;
  /** Safe to log and to show the endpoint's owner. */
  message: string;
  code?: string;
  retryable: boolean;
  latencyMs: number;
}

export type OutboundResult = OutboundResponse | OutboundFailure;

/**
 * Sends one HTTP request to a third party's server without letting it reach anything internal:
 * the URL is validated, every address is checked at connect time (see guarded-lookup.ts), redirects
 * are returned and never followed, time is bounded and only an excerpt of the body is read.
 * Never throws: every outcome is a result.
 */
export class OutboundHttpSender {
  private readonly policy: DestinationPolicy;
  private readonly connectTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxExcerptBytes: number;
  private readonly userAgent: string;

  constructor(private readonly options: OutboundSenderOptions = {}) {
    this.policy = createDestinationPolicy(options.allow);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 15_000;
    this.maxExcerptBytes = options.maxExcerptBytes ?? 4_096;
    this.userAgent = options.userAgent ?? 'te-explico-webhooks/1';
  }

  async send(request: OutboundRequest): Promise<OutboundResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = validateDestinationUrl(request.url, this.policy);
    } catch (error) {
      return failure(error, elapsed());
    }
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const isHttps = url.protocol === 'https:';
    const lookup = createGuardedLookup({
      policy: this.policy,
      resolver: this.options.resolver,
      check: !isHostPortAllowed(this.policy, url),
    });

    return new Promise<OutboundResult>((resolve) => {
      const req = (isHttps ? https : http).request(url, {
        method: request.method ?? 'POST',
        headers: {
          'user-agent': this.userAgent,
          connection: 'close',
          ...request.headers,
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
        agent: false, // one connection per request: nothing pooled from an earlier resolution
        lookup,
        ...(isHttps && this.options.ca ? { ca: this.options.ca } : {}),
      });
      let settled = false;
      const settle = (result: OutboundResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        resolve(result);
      };
      const connectTimer = setTimeout(
        () => req.destroy(new OutboundTimeoutError('connect', this.connectTimeoutMs)),
        this.connectTimeoutMs,
      );
      const totalTimer = setTimeout(
        () => req.destroy(new OutboundTimeoutError('total', this.totalTimeoutMs)),
        this.totalTimeoutMs,
      );
      req.on('socket', (socket: Socket) => {
        socket.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (error) => settle(failure(error, elapsed())));
      req.on('response', (res) => this.readExcerpt(res, elapsed, settle));
      req.end(body);
    });
  }

  private readExcerpt(
    res: http.IncomingMessage,
    elapsed: () => number,
    settle: (result: OutboundResult) => void,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (truncated: boolean) => {
      const excerpt = new TextDecoder().decode(Buffer.concat(chunks), { stream: truncated });
      const retryAfterMs = parseRetryAfter(headerValue(res.headers['retry-after']));
      settle({
        outcome: 'response',
        status: res.statusCode ?? 0,
        headers: flattenHeaders(res.headers),
        latencyMs: elapsed(),
        excerpt,
        truncated,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        remoteAddress: res.socket?.remoteAddress,
      });
    };
    res.on('data', (chunk: Buffer) => {
      const room = this.maxExcerptBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size += room;
        done(true);
        res.destroy(); // the rest of the body is never read
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', () => done(false));
    // Headers arrived, so the receiver answered; a body that breaks off (or a total timeout while
    // reading it) still reports the status, with the excerpt marked incomplete.
    res.on('error', () => done(true));
    res.on('close', () => done(!res.complete));
  }
}

function failure(error: unknown, latencyMs: number): OutboundFailure {
  const classified = classifyOutboundError(error);
  return {
    outcome: 'failure',
    error: classified.kind,
    message: classified.message,
    ...(classified.code ? { code: classified.code } : {}),
    retryable: classified.kind !== 'refused_destination',
    latencyMs,
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'set-cookie') continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
