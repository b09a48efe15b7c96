import type { RequestHandler } from 'express';
import type { ErrorCode, Scope } from '@te/platform';
import type { z } from 'zod';
import type { RequireAuth } from '../auth/require-auth.middleware.js';
import type { Tag } from './tags.js';

/** A JSON Schema (2020-12) object, for what no zod schema describes (raw bodies, SSE frames). */
export type JsonSchema = Record<string, unknown>;

export interface ResponseSpec {
  description: string;
  /** The envelope's `data` member (application/json `{ success, data, error, metadata }`). */
  data?: z.ZodType;
  /** A body that is not the envelope: media type → schema (zod or JSON Schema). */
  content?: Record<string, z.ZodType | JsonSchema>;
  /** Response headers worth knowing: name → description. */
  headers?: Record<string, string>;
}

/** A request header an operation reads (Idempotency-Key, Last-Event-ID, signatures …). */
export interface HeaderSpec {
  description: string;
  required?: boolean;
  schema?: z.ZodType;
}

/**
 * One operation of the public API, declared in its route registration (`router.post(path,
 * operation({...}), …handlers)`). Method and path come from the registration itself and the scopes
 * from its `requireAuth(...)`, so neither is written twice; the schemas are the validators' own.
 */
export interface OperationSpec {
  summary: string;
  description?: string;
  tag: Tag;
  /** Overrides the operationId derived from method and path. */
  operationId?: string;
  /** The application/json body, the very schema `validateBody` uses. */
  body?: z.ZodType;
  /** A body that is not validated JSON (multipart uploads, raw webhook bytes): media type → schema. */
  bodyContent?: Record<string, z.ZodType | JsonSchema>;
  /** The query string, the very schema `validateQuery` uses (a z.object). */
  query?: z.ZodType;
  /** Path parameters: name → schema (default: a string). Names must match the path's. */
  params?: Record<string, z.ZodType>;
  headers?: Record<string, HeaderSpec>;
  /** Success answers (and any other answer that is not an error): status → response. */
  responses: Record<number, ResponseSpec>;
  /**
   * Errors this operation may answer beyond those its shape implies (401/403 with requireAuth,
   * 400/413/415 with a body, 400 with a query, 429 everywhere, 503/504 unless `local`).
   */
  errors?: ErrorCode[];
  /** requireSession(): an access token only, never an API key. */
  sessionOnly?: true;
  /** Calls no other service (no 503/504 from upstreams). */
  local?: true;
  /** Errors in OpenAI's shape (the /v1 API, decision 0017) instead of the envelope. */
  errorFormat?: 'envelope' | 'openai';
}

export const OPERATION = Symbol('openapi.operation');
export const NOT_AN_OPERATION = Symbol('openapi.not-an-operation');
export const REQUIRED_SCOPES = Symbol('openapi.required-scopes');

export type OperationMarker = RequestHandler & { [OPERATION]: OperationSpec };
export type ExclusionMarker = RequestHandler & { [NOT_AN_OPERATION]: string };

const pass: RequestHandler = (_req, _res, next) => next();

/** Declares the route's OpenAPI operation; put it first in the route's handlers (it does nothing else). */
export function operation(spec: OperationSpec): OperationMarker {
  return Object.assign((...args: Parameters<RequestHandler>) => pass(...args), { [OPERATION]: spec });
}

/** Marks a route that is deliberately not an API operation (the reference page and its assets). */
export function notAnOperation(reason: string): ExclusionMarker {
  return Object.assign((...args: Parameters<RequestHandler>) => pass(...args), {
    [NOT_AN_OPERATION]: reason,
  });
}

/**
 * requireAuth whose middlewares say which scopes they require, so the document reads each route's
 * security from the handler that enforces it (createHttpApp wraps the one it is given).
 */
export function recordScopes(requireAuth: RequireAuth): RequireAuth {
  return (...scopes) =>
    Object.assign(requireAuth(...scopes), { [REQUIRED_SCOPES]: scopes as readonly Scope[] });
}
