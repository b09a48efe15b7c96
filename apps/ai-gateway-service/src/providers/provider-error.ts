import { AppError, redactString, type ErrorCode } from '@te/platform';

export interface ProviderErrorOptions {
  provider: string;
  /** Whether the same call to the same provider may succeed later (rate limit, 5xx, network, timeout). */
  retryable: boolean;
  /** A stream failed after at least one delta was delivered: what the caller holds is not an answer. */
  partial?: boolean;
  /** The provider's HTTP status, for logs and metrics (never shown to users as such). */
  upstreamStatus?: number;
  /** Why, in one stable word: provider_auth, cancelled, timeout, network, bad_response, … */
  reason?: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * An AppError from a provider adapter. The code is what the user sees; `retryable`, `partial` and
 * `retryAfterMs` are for the resilience layer (retries, fallback, breaker). Messages never carry
 * credentials: provider texts go through sanitiseProviderMessage first.
 */
export class ProviderError extends AppError {
  readonly provider: string;
  readonly retryable: boolean;
  readonly partial: boolean;
  readonly upstreamStatus?: number;
  readonly reason?: string;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: ProviderErrorOptions) {
    super(code, message, {
      cause: options.cause,
      retryAfterSeconds: options.retryAfterMs === undefined ? undefined : options.retryAfterMs / 1000,
      details: {
        provider: options.provider,
        retryable: options.retryable,
        ...(options.partial ? { partial: true } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
        ...(options.upstreamStatus ? { upstreamStatus: options.upstreamStatus } : {}),
      },
    });
    this.name = 'ProviderError';
    this.provider = options.provider;
    this.retryable = options.retryable;
    this.partial = options.partial ?? false;
    if (options.upstreamStatus !== undefined) this.upstreamStatus = options.upstreamStatus;
    if (options.reason !== undefined) this.reason = options.reason;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** The same error, marked as having happened after deltas were delivered. */
  asPartial(): ProviderError {
    if (this.partial) return this;
    return new ProviderError(this.code, this.message, {
      provider: this.provider,
      retryable: this.retryable,
      partial: true,
      upstreamStatus: this.upstreamStatus,
      reason: this.reason,
      retryAfterMs: this.retryAfterMs,
      cause: this.cause,
    });
  }
}

// Things that look like credentials even when they are not ours (providers echo masked keys).
const KEY_LIKE = /\b(?:sk|pk|rk|key)-[A-Za-z0-9_*.-]{6,}|[A-Za-z0-9_-]{32,}/g;

/** A provider's error text made fit for a user: no credentials, one line, bounded. */
export function sanitiseProviderMessage(message: unknown, secrets: readonly string[] = []): string {
  let text = typeof message === 'string' ? message : '';
  for (const secret of secrets) if (secret) text = text.split(secret).join('[REDACTED]');
  text = redactString(text).replace(KEY_LIKE, '[REDACTED]').replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) and the `retry-after-ms` header
 * OpenAI and Azure send; the more precise one wins. Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface UpstreamFailure {
  provider: string;
  status: number;
  headers: Headers;
  /** The provider's own error message, unsanitised (sanitised here). */
  providerMessage?: string;
  model: string;
  secrets: readonly string[];
}

/**
 * HTTP status → stable code. 401/403 become UNAVAILABLE (reason provider_auth, not retryable): the
 * user did nothing wrong, the operator's credentials are bad, so another provider may still answer.
 */
export function errorForStatus(failure: UpstreamFailure): ProviderError {
  const { provider, status } = failure;
  const said = sanitiseProviderMessage(failure.providerMessage, failure.secrets);
  const base = { provider, upstreamStatus: status };
  if (status === 400 || status === 422)
    return new ProviderError(
      'VALIDATION_FAILED',
      `The model provider rejected the request${said ? `: ${said}` : ''}`,
      { ...base, retryable: false, reason: 'rejected' },
    );
  if (status === 401 || status === 403)
    return new ProviderError('UNAVAILABLE', 'The model provider is not available', {
      ...base,
      retryable: false,
      reason: 'provider_auth',
    });
  if (status === 404)
    return new ProviderError('NOT_FOUND', `The model provider has no model "${failure.model}"`, {
      ...base,
      retryable: false,
      reason: 'model_not_found',
    });
  if (status === 408)
    return new ProviderError('DEADLINE_EXCEEDED', 'The model provider timed out', {
      ...base,
      retryable: true,
      reason: 'timeout',
    });
  if (status === 413)
    return new ProviderError('PAYLOAD_TOO_LARGE', 'The request is too large for the model provider', {
      ...base,
      retryable: false,
      reason: 'rejected',
    });
  if (status === 429)
    return new ProviderError('RATE_LIMITED', 'The model provider is rate limiting requests', {
      ...base,
      retryable: true,
      reason: 'rate_limited',
      retryAfterMs: parseRetryAfter(failure.headers),
    });
  // 5xx (and Anthropic's 529 "overloaded"), and any other status we do not expect.
  return new ProviderError('UNAVAILABLE', 'The model provider is not available', {
    ...base,
    retryable: status >= 500,
    reason: status >= 500 ? 'upstream_error' : 'unexpected_status',
  });
}
