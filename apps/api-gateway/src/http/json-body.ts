import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { AppError } from '@te/platform';

/** Member names that reach object prototypes when a body is merged or assigned member by member. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The JSON body parser of the API (and of /v1 with its own limit): strict JSON in well-formed UTF-8
 * (RFC 8259 §8.1 — invalid bytes would otherwise become U+FFFD without a word) and no `__proto__`,
 * `constructor` or `prototype` member at any depth (prototype poisoning of whatever merges the body
 * later, here or in a service). Both are 400s; the rest of the body's shape is the routes' zod schemas'.
 */
export function jsonBody(limit: string): RequestHandler[] {
  return [
    express.json({
      limit,
      strict: true,
      verify: (_req, _res, buffer, encoding) => {
        if (encoding.toLowerCase() === 'utf-8' && !isUtf8(buffer)) {
          // body-parser keeps `type` and a 4xx `status` (the error handlers map the type).
          throw Object.assign(new Error('Request body is not valid UTF-8'), {
            status: 400,
            type: 'encoding.invalid',
          });
        }
      },
    }),
    refuseReservedKeys,
  ];
}

const refuseReservedKeys: RequestHandler = (req, _res, next) => {
  const found = reservedKeyPaths(req.body);
  if (!found.length) return next();
  throw new AppError('VALIDATION_FAILED', 'Request body has a reserved member name', {
    fields: found.map((field) => ({ field, message: 'is not allowed' })),
  });
};

/** The paths of reserved member names, at any depth (iterative: a body may nest thousands deep). */
function reservedKeyPaths(body: unknown): string[] {
  const found: string[] = [];
  const pending: [value: unknown, path: string][] = [[body, '']];
  for (let next = pending.pop(); next && found.length < 20; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      const at = path ? `${path}.${key}` : key;
      if (RESERVED_KEYS.has(key)) found.push(at);
      else pending.push([(value as Record<string, unknown>)[key], at]);
    }
  }
  return found;
}
