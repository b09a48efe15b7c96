import type { RequestHandler, Response } from 'express';
import { AppError } from '@te/platform';
import type { z } from 'zod';

/**
 * Validates the query string against a strict zod schema (unknown parameters are refused, like unknown
 * body keys) and keeps the parsed value in `res.locals.query` (Express 5's `req.query` is read-only).
 * Failures are one 400 naming every offending parameter. With the 'simple' query parser a repeated
 * parameter arrives as an array, which a string schema refuses.
 */
export function validateQuery<S extends z.ZodType>(schema: S): RequestHandler {
  return (req, res, next) => {
    const result = schema.safeParse(req.query);
    if (!result.success) {
      throw new AppError('VALIDATION_FAILED', 'Query parameters are invalid', {
        fields: result.error.issues.flatMap((issue) => {
          if (issue.code === 'unrecognized_keys') {
            return issue.keys.map((key) => ({ field: key, message: 'is not allowed' }));
          }
          return [{ field: issue.path.join('.') || '(query)', message: issue.message }];
        }),
      });
    }
    res.locals.query = result.data;
    next();
  };
}

export function validatedQuery<S extends z.ZodType>(res: Response, _schema: S): z.infer<S> {
  return res.locals.query as z.infer<S>;
}
