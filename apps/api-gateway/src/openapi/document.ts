import type { Express } from 'express';
import { AppError, ERROR_CODES, httpStatusFor, type ErrorCode } from '@te/platform';
import { z } from 'zod';
import { toOpenAiError } from '../http/openai-errors.js';
import type { HeaderSpec, JsonSchema, OperationSpec, ResponseSpec } from './operation.js';
import { registeredRoutes, type RegisteredRoute } from './route-walk.js';
import { responseSchemas } from './schemas.js';
import { TAGS } from './tags.js';

export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> } & Record<string, unknown>;
};
type Operation = Record<string, unknown> & { operationId: string };

export interface BuiltDocument {
  document: OpenApiDocument;
  /** Routes without exactly one operation, parameters that do not match: empty when all is well. */
  problems: string[];
}

const COMPONENT = (id: string) => `#/components/schemas/${id}`;
const ERROR_ENVELOPE = { $ref: COMPONENT('ErrorEnvelope') };
const OPENAI_ERROR = { $ref: COMPONENT('OpenAiError') };
const ERROR_HEADERS: Record<number, Record<string, string>> = {
  401: { 'WWW-Authenticate': 'Bearer (with `error="insufficient_scope"` and the scope on a 403)' },
  429: { 'Retry-After': 'Seconds to wait before trying again' },
  503: { 'Retry-After': 'Seconds until an open circuit breaker tries the service again (when known)' },
};

/**
 * The OpenAPI 3.1 document of the app, built from its own route registrations: paths and methods from
 * Express's router, scopes from each route's requireAuth, schemas from the zod schemas the validators
 * use (`z.toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1 uses as is; decision 0025-openapi).
 */
export function buildOpenApiDocument(app: Express): BuiltDocument {
  const problems: string[] = [];
  const paths: OpenApiDocument['paths'] = {};
  for (const route of registeredRoutes(app)) {
    const key = `${route.method} ${route.path}`;
    if (route.excluded !== undefined) continue;
    if (route.operations.length !== 1) {
      problems.push(`${key}: ${route.operations.length} operations declared (exactly one expected)`);
      continue;
    }
    const path = route.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
    const method = route.method.toLowerCase();
    if (paths[path]?.[method]) problems.push(`${key}: registered twice`);
    (paths[path] ??= {})[method] = toOperation(route, route.operations[0], path, problems);
  }
  return {
    document: {
      openapi: '3.1.1',
      info: INFO,
      tags: Object.values(TAGS),
      paths,
      components: {
        schemas: { ...componentSchemas(), ...ENVELOPE_SCHEMAS },
        securitySchemes: SECURITY_SCHEMES,
      },
    },
    problems,
  };
}

const built = new WeakMap<Express, BuiltDocument>();

/** The app's document, built once (the routes do not change after start-up). */
export function openApiDocumentOf(app: Express): BuiltDocument {
  let result = built.get(app);
  if (!result) built.set(app, (result = buildOpenApiDocument(app)));
  return result;
}

function toOperation(
  route: RegisteredRoute,
  spec: OperationSpec,
  path: string,
  problems: string[],
): Operation {
  const key = `${route.method} ${route.path}`;
  const scopes = route.scopes;
  const security =
    scopes === undefined
      ? []
      : spec.sessionOnly
        ? [{ accessToken: [...scopes] }]
        : [{ accessToken: [...scopes] }, { apiKey: [...scopes] }];
  return {
    operationId: spec.operationId ?? operationIdOf(route.method, path),
    summary: spec.summary,
    description: [spec.description, authText(scopes, spec.sessionOnly)].filter(Boolean).join('\n\n'),
    tags: [TAGS[spec.tag].name],
    security,
    ...(scopes && { 'x-required-scopes': [...scopes] }),
    parameters: [
      ...pathParameters(path, spec, key, problems),
      ...queryParameters(spec, key, problems),
      ...headerParameters(spec.headers ?? {}),
    ],
    ...requestBody(spec),
    responses: responses(route, spec, key, problems),
  };
}

function authText(scopes: readonly string[] | undefined, sessionOnly?: true): string {
  if (scopes === undefined) return 'No credential.';
  const who = sessionOnly
    ? 'A signed-in session’s access token (not an API key)'
    : 'An access token or an API key';
  return scopes.length
    ? `${who} with the scope ${scopes.map((s) => `\`${s}\``).join(', ')}.`
    : `${who}; no particular scope.`;
}

/** `GET /api/v1/sessions/{id}/messages` → `getSessionsByIdMessages` (the /api/v1 prefix dropped). */
function operationIdOf(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1(?=\/)/, '')
    .split(/[/.-]/)
    .filter(Boolean)
    .map((part) => part.replace(/^\{(.+)\}$/, 'by-$1'))
    .flatMap((part) => part.split(/[-_]/));
  return [method.toLowerCase(), ...words.map((w) => w[0].toUpperCase() + w.slice(1))].join('');
}

function pathParameters(path: string, spec: OperationSpec, key: string, problems: string[]) {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const name of Object.keys(spec.params ?? {})) {
    if (!names.includes(name)) problems.push(`${key}: parameter "${name}" is not in the path`);
  }
  return names.map((name) => {
    const schema = spec.params?.[name];
    const json = schema ? inputSchema(schema) : { type: 'string' };
    return { name, in: 'path', required: true, schema: json, ...descriptionOf(json) };
  });
}

function queryParameters(spec: OperationSpec, key: string, problems: string[]) {
  if (!spec.query) return [];
  const json = inputSchema(spec.query);
  const properties = json['properties'] as Record<string, JsonSchema> | undefined;
  if (json['type'] !== 'object' || !properties) {
    problems.push(`${key}: the query schema is not an object`);
    return [];
  }
  const required = new Set((json['required'] as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
    ...descriptionOf(schema),
  }));
}

function headerParameters(headers: Record<string, HeaderSpec>) {
  return Object.entries(headers).map(([name, header]) => ({
    name,
    in: 'header',
    required: header.required ?? false,
    description: header.description,
    schema: header.schema ? inputSchema(header.schema) : { type: 'string' },
  }));
}

function requestBody(spec: OperationSpec) {
  const content: Record<string, { schema: JsonSchema }> = {};
  if (spec.body) content['application/json'] = { schema: inputSchema(spec.body) };
  for (const [type, schema] of Object.entries(spec.bodyContent ?? {})) {
    content[type] = { schema: schema instanceof z.ZodType ? inputSchema(schema) : schema };
  }
  return Object.keys(content).length ? { requestBody: { required: true, content } } : {};
}

function responses(route: RegisteredRoute, spec: OperationSpec, key: string, problems: string[]) {
  const out: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec.responses)) out[status] = toResponse(response);
  const openAi = spec.errorFormat === 'openai';
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(route, spec)) {
    const status = openAi ? toOpenAiError(new AppError(code, code)).status : httpStatusFor(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    if (out[status]) {
      problems.push(`${key}: ${status} is both an answer and an error`);
      continue;
    }
    const headers = ERROR_HEADERS[status];
    out[status] = {
      description: openAi ? `OpenAI error (${codes.join(', ')})` : codes.join(', '),
      ...(headers && { headers: headersOf(headers) }),
      content: { 'application/json': { schema: openAi ? OPENAI_ERROR : ERROR_ENVELOPE } },
    };
  }
  return out;
}

/** The errors an operation's shape implies, and those it declares. */
function errorCodes(route: RegisteredRoute, spec: OperationSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (route.scopes !== undefined) ['UNAUTHENTICATED', 'FORBIDDEN'].forEach((c) => codes.add(c as ErrorCode));
  if (spec.body) {
    for (const code of ['VALIDATION_FAILED', 'BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'])
      codes.add(code as ErrorCode);
  }
  if (spec.query) codes.add('VALIDATION_FAILED');
  for (const code of spec.errors ?? []) codes.add(code);
  codes.add('RATE_LIMITED');
  if (!spec.local) ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].forEach((c) => codes.add(c as ErrorCode));
  return ERROR_CODES.filter((code) => codes.has(code)); // in the platform's order
}

function toResponse(response: ResponseSpec) {
  const content: Record<string, { schema: JsonSchema }> = {};
  if (response.data) content['application/json'] = { schema: successEnvelope(outputSchema(response.data)) };
  for (const [type, schema] of Object.entries(response.content ?? {})) {
    content[type] = { schema: schema instanceof z.ZodType ? outputSchema(schema) : schema };
  }
  return {
    description: response.description,
    ...(response.headers && { headers: headersOf(response.headers) }),
    ...(Object.keys(content).length && { content }),
  };
}

function headersOf(headers: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
  );
}

function successEnvelope(data: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['success', 'data', 'error', 'metadata'],
    properties: {
      success: { const: true },
      data,
      error: { type: 'null' },
      metadata: { $ref: COMPONENT('Metadata') },
    },
  };
}

function descriptionOf(schema: JsonSchema): { description?: string } {
  return typeof schema['description'] === 'string' ? { description: schema['description'] } : {};
}

// ---- zod → JSON Schema 2020-12

/** What a client may send: `.strict()` objects are `additionalProperties: false`, refinements are not expressed. */
function inputSchema(schema: z.ZodType): JsonSchema {
  return localized(
    z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', metadata: responseSchemas }),
  );
}

/**
 * What the server answers. Objects stay open (a new member is a compatible change), and the named
 * response schemas are references to `components.schemas`.
 */
function outputSchema(schema: z.ZodType): JsonSchema {
  return localized(
    z.toJSONSchema(schema, {
      io: 'output',
      unrepresentable: 'any',
      metadata: responseSchemas,
      override: openObjects,
    }),
  );
}

function openObjects(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }) {
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; catchall?: unknown } } })._zod?.def;
  if (def?.type === 'object' && def.catchall === undefined) delete ctx.jsonSchema['additionalProperties'];
}

/** Drops `$schema`/`$id` and points `#/$defs/X` (a named response schema) at `#/components/schemas/X`. */
function localized(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, $defs: _defs, ...rest } = schema;
  return JSON.parse(
    JSON.stringify(rest).replace(/"#\/\$defs\/([^"]+)"/g, (_m, id: string) => `"${COMPONENT(id)}"`),
  );
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(responseSchemas, {
    io: 'output',
    unrepresentable: 'any',
    override: openObjects,
    uri: COMPONENT,
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, localized(schema)]));
}

// ---- the fixed parts

const INFO = {
  title: 'TE-explico API',
  version: '1',
  description: [
    'The public API of TE-explico, served by the api-gateway.',
    '',
    '**Answers** under `/api/v1` are one JSON envelope: `{ success, data, error: { code, message, fields? } | null, ' +
      'metadata: { timestamp, request_id } }` (`metadata.request_id` equals the `X-Request-Id` header). ' +
      'Bad input is a 400 naming every offending field; unknown members are refused by name. ' +
      'Deletions answer 204 without a body; streams are `text/event-stream`.',
    '',
    '**Credentials**: a signed-in session’s access token (`Authorization: Bearer <JWT>`) or an API key ' +
      '(`X-API-Key: tek_…`, or `Authorization: Bearer tek_…`). Each operation lists the scope it needs: ' +
      'without a credential 401, without the scope 403 `insufficient_scope`.',
    '',
    '**Edge**: rate limits answer 429 with `Retry-After` (`RateLimit-*` headers on every answer); ' +
      'an authenticated POST may carry `Idempotency-Key: <[A-Za-z0-9._:-]{1,120}>` to make a retry return the first answer.',
    '',
    '**OpenAI-compatible API** (`/v1`): OpenAI’s request and answer formats, and its error shape ' +
      '`{ error: { message, type, param, code } }` instead of the envelope.',
  ].join('\n'),
};

const SECURITY_SCHEMES = {
  accessToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A signed-in session’s access token (ES256 JWT) from register, login, refresh or OIDC.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'A personal API key (`tek_…`); `Authorization: Bearer tek_…` works too.',
  },
};

const ENVELOPE_SCHEMAS: Record<string, JsonSchema> = {
  Metadata: {
    type: 'object',
    required: ['timestamp', 'request_id'],
    properties: {
      timestamp: { type: 'string', description: 'RFC 3339' },
      request_id: { type: 'string', description: 'Equals the X-Request-Id response header' },
    },
  },
  ErrorEnvelope: {
    type: 'object',
    required: ['success', 'data', 'error', 'metadata'],
    properties: {
      success: { const: false },
      data: { type: 'null' },
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: [...ERROR_CODES] },
          message: { type: 'string' },
          fields: {
            type: 'array',
            items: {
              type: 'object',
              required: ['field', 'message'],
              properties: { field: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
      metadata: { $ref: COMPONENT('Metadata') },
    },
  },
  OpenAiError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string' },
          param: { type: ['string', 'null'] },
          code: { type: ['string', 'null'] },
        },
      },
    },
  },
};
