import type { RateLimitPolicy } from './rate-limit.store.js';

/**
 * Route classes, each with its own limit (decision 0023-gateway-edge):
 * - `auth`: sign-in and credential changes, strict and per client IP (user-service also throttles
 *   sign-in per account and IP; this is the coarse edge limit in front of it);
 * - `upload`: screenshot uploads; `inference`: anything that runs a model;
 * - `default`: every other route under /api/v1 and /v1.
 */
export type RouteClass = 'auth' | 'upload' | 'inference' | 'default';

export interface RateLimits {
  /** Per route class: `auth` is counted per client IP, the others per principal. */
  classes: Record<RouteClass, RateLimitPolicy>;
  /** Every request under /api/v1 and /v1 (except `auth`, counted above), per client IP: a flood guard. */
  ip: RateLimitPolicy;
}

const AUTH_PATHS = new Set([
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/users/me/password',
]);
const UPLOAD = /^\/api\/v1\/sessions\/[^/]+\/attachments\/?$/;
const MESSAGES = /^\/api\/v1\/sessions\/[^/]+\/messages\/?$/;

/** The class of a request by method and path, or undefined for what is not limited (probes, JWKS). */
export function classifyRequest(method: string, rawPath: string): RouteClass | undefined {
  const path = rawPath.toLowerCase(); // Express matches routes case-insensitively
  const inApi = path.startsWith('/api/v1/') || path === '/api/v1';
  const inOpenAi = path.startsWith('/v1/') || path === '/v1';
  if (!inApi && !inOpenAi) return undefined;
  if (method === 'OPTIONS') return undefined; // CORS preflights are answered before any route
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (AUTH_PATHS.has(`${method} ${trimmed}`) || trimmed.startsWith('/api/v1/auth/oidc/')) return 'auth';
  if (method === 'POST' && UPLOAD.test(trimmed)) return 'upload';
  if (method === 'POST' && (MESSAGES.test(trimmed) || trimmed === '/v1/chat/completions')) return 'inference';
  return 'default';
}
