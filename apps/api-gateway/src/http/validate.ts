import type { Request, RequestHandler } from 'express';
import { AppError } from '@te/platform';
import type { z } from 'zod';

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
