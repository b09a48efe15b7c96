import { createHash, randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { AppError, type Logger, type Principal, type Redis } from '@te/platform';
import { withTimeout } from './rate-limit.store.js';

/** The same format as /v1's (openai-compatible.routes.ts): safe in keys, logs and headers. */
export const IDEMPOTENCY_KEY_FORMAT = /^[A-Za-z0-9._:-]{1,120}$/;

/**
 * POST routes whose answers carry a secret shown once (a new API key, a webhook's signing secret):
 * their answers are never written to Redis; the key only guards against a concurrent duplicate.
 * Sign-in routes (register, login, refresh, OIDC) carry tokens but take no principal, so they never
 * reach this middleware.
 */
const NOT_STORED = [/^\/api\/v1\/api-keys\/?$/i, /^\/api\/v1\/webhooks(\/|$)/i];

export interface IdempotencyOptions {
  redis: Redis;
  /** How long a final answer is replayed (IDEMPOTENCY_TTL_SECONDS, 24 h). */
  ttlSeconds: number;
  /** How long an unfinished request holds its key (a crashed replica's lock expires then). */
  lockSeconds: number;
  /** Beyond this, a Redis call counts as failed (the request is refused with 503). */
  timeoutMs: number;
  logger: Logger;
}

interface Entry {
  token: string;
  fingerprint: string;
  state: 'in_flight' | 'done';
  status?: number;
  body?: unknown;
  location?: string;
}

// Reads the entry, or claims the key with ARGV[1] when there is none (one atomic step).
const BEGIN = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
`;
// Replaces (ARGV[2] non-empty) or deletes the entry, only while it is still this request's claim.
const FINISH = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, entry = pcall(cjson.decode, current)
if not ok or entry.token ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
`;

interface IdempotencyRedis extends Redis {
  idempotencyBegin(key: string, claim: string, lockSeconds: number): Promise<string | null>;
  idempotencyFinish(key: string, token: string, entry: string, ttlSeconds: number): Promise<number>;
}

/** Same key, different request: 422 (draft-ietf-httpapi-idempotency-key-header §2.7), code VALIDATION_FAILED. */
export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('VALIDATION_FAILED', 'This Idempotency-Key was already used with a different request', {
      fields: [{ field: 'Idempotency-Key', message: 'was used with a different request body' }],
    });
  }

  override get httpStatus(): number {
    return 422;
  }
}

/**
 * `Idempotency-Key` on POST under /api/v1 (decision 0023-gateway-edge), after authentication: per
 * (user, method + path, key). The first request claims the key; its final answer (2xx, or 4xx other
 * than 429) is kept for `ttlSeconds` and replayed — same status and body, a fresh `metadata`, and
 * `Idempotent-Replayed: true` — to a retry with the same body. A different body → 422; a duplicate
 * while the first is in flight → 409. 5xx and 429 answers, event streams, multipart uploads and
 * answers carrying secrets are not kept: the key is released when they end (a retry runs again).
 * /v1 keeps its own key handling (chat completions); inbound webhooks dedupe by the sender's id.
 */
export function idempotency(options: IdempotencyOptions): RequestHandler {
  if (!('idempotencyBegin' in options.redis)) {
    options.redis.defineCommand('idempotencyBegin', { numberOfKeys: 1, lua: BEGIN });
    options.redis.defineCommand('idempotencyFinish', { numberOfKeys: 1, lua: FINISH });
  }
  const redis = options.redis as IdempotencyRedis;

  return (req, res, next) => {
    const path = req.originalUrl.split('?')[0] ?? '';
    const header = req.get('idempotency-key');
    if (req.method !== 'POST' || header === undefined || !path.startsWith('/api/v1/')) return next();
    if (!IDEMPOTENCY_KEY_FORMAT.test(header)) {
      return next(
        new AppError('VALIDATION_FAILED', 'Invalid Idempotency-Key', {
          fields: [{ field: 'Idempotency-Key', message: 'must match [A-Za-z0-9._:-]{1,120}' }],
        }),
      );
    }
    const principal = res.locals.principal as Principal | undefined;
    if (!principal) return next();
    const multipart = req.is('multipart/form-data') === 'multipart/form-data';
    const storable = !multipart && !NOT_STORED.some((pattern) => pattern.test(path));
    const key = `idem:${principal.userId}:${sha256(`POST ${path}\n${header}`)}`;
    const claim: Entry = {
      token: randomUUID(),
      // A multipart body is still unread here: only the key is compared.
      fingerprint: multipart ? 'multipart' : fingerprint(req),
      state: 'in_flight',
    };

    const begin =
      redis.status === 'ready'
        ? redis.idempotencyBegin(key, JSON.stringify(claim), options.lockSeconds)
        : Promise.reject(new Error(`redis is ${redis.status}`));
    withTimeout(begin, options.timeoutMs)
      .then(
        (existing) => {
          if (existing === null) {
            recordOnFinish(res, { redis, key, claim, storable, options });
            return next();
          }
          const entry = JSON.parse(existing) as Entry;
          if (entry.fingerprint !== claim.fingerprint) return next(new IdempotencyKeyReusedError());
          if (entry.state === 'in_flight')
            return next(new AppError('CONFLICT', 'A request with this Idempotency-Key is in progress'));
          replay(res, entry);
        },
        (error: unknown) =>
          next(new AppError('UNAVAILABLE', 'Idempotency keys are unavailable', { cause: error })),
      )
      .catch(next);
  };
}

function recordOnFinish(
  res: Response,
  context: {
    redis: IdempotencyRedis;
    key: string;
    claim: Entry;
    storable: boolean;
    options: IdempotencyOptions;
  },
): void {
  const { redis, key, claim, options } = context;
  let body: unknown;
  const json = res.json.bind(res);
  res.json = (value: unknown) => {
    body = value;
    return json(value);
  };
  res.once('close', () => {
    const streamed = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
    const final = res.writableFinished && res.statusCode < 500 && res.statusCode !== 429;
    const keep = context.storable && final && !streamed && (body !== undefined || res.statusCode === 204);
    const location = res.getHeader('location');
    const entry: Entry = {
      ...claim,
      state: 'done',
      status: res.statusCode,
      ...(body === undefined ? {} : { body }),
      ...(typeof location === 'string' ? { location } : {}),
    };
    withTimeout(
      redis.idempotencyFinish(key, claim.token, keep ? JSON.stringify(entry) : '', options.ttlSeconds),
      options.timeoutMs * 10,
    ).catch((error: unknown) =>
      // The claim then expires after lockSeconds; until then a retry gets 409.
      options.logger.warn('idempotency key not recorded', {
        reason: error instanceof Error ? error.message : String(error),
      }),
    );
  });
}

function replay(res: Response, entry: Entry): void {
  res.setHeader('Idempotent-Replayed', 'true');
  if (entry.location) res.setHeader('Location', entry.location);
  res.status(entry.status ?? 200);
  if (entry.body === undefined) {
    res.end();
    return;
  }
  // The answer is the first one; its metadata is this response's, so request_id matches X-Request-Id.
  const body = entry.body as Record<string, unknown>;
  if (typeof body === 'object' && body !== null && 'metadata' in body) {
    res.json({
      ...body,
      metadata: { timestamp: new Date().toISOString(), request_id: String(res.locals.requestId ?? '') },
    });
  } else {
    res.json(body);
  }
}

/** The request's identity beyond its key: its query and body, member order ignored. */
function fingerprint(req: Request): string {
  return sha256(stableJson({ query: req.query as unknown, body: req.body as unknown }));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
