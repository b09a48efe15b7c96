import type { Request, RequestHandler } from 'express';
import { AppError } from '@te/platform';
import { z } from 'zod';

/**
 * Validates `req.body` against a zod schema and replaces it with the parsed value. Failures are a 400
 * naming every offending field. Bodies must be JSON: anything else is a 415.
 */
export function validateBody<S extends z.ZodType>(schema: S): RequestHandler {
  return (req, _res, next) => {
    if (!req.is('application/json')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json');
    }
    const result = schema.safeParse(req.body);
    if (!result.success) {
      throw new AppError('VALIDATION_FAILED', 'Request body is invalid', {
        fields: result.error.issues.flatMap((issue) => {
          const at = issue.path.join('.');
          // An unknown key is reported on that key, so clients can point at the offending field.
          if (issue.code === 'unrecognized_keys') {
            return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: 'is not allowed' }));
          }
          return [{ field: at || '(body)', message: issue.message }];
        }),
      });
    }
    req.body = result.data;
    next();
  };
}

export function body<S extends z.ZodType>(req: Request, _schema: S): z.infer<S> {
  return req.body as z.infer<S>;
}

/**
 * A string of at most `max` UTF-16 units that is well-formed Unicode: a lone surrogate would silently
 * become U+FFFD on its way to a service. The routes check types and sizes; services apply the rules.
 */
export function unicodeText(max: number) {
  return z
    .string()
    .max(max)
    .refine((value) => value.isWellFormed(), { message: 'must be valid Unicode text' });
}

/**
 * For actions that take no input: no body, or an empty JSON object. Members are named and refused
 * (a body with members is a client bug, or an attempt to set what the action does not take).
 */
export function noBody(): RequestHandler {
  return (req, _res, next) => {
    const body: unknown = req.body;
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    if (body === undefined || (isObject && Object.keys(body).length === 0)) return next();
    const keys = isObject ? Object.keys(body) : [];
    throw new AppError('VALIDATION_FAILED', 'This request takes no body', {
      fields: keys.length
        ? keys.map((field) => ({ field, message: 'is not allowed' }))
        : [{ field: '(body)', message: 'must be empty' }],
    });
  };
}
