import type { Response } from 'express';
import type { AppError, FieldError } from '@te/platform';

/**
 * Every JSON response of the public API has this shape (errors and 404s included), so clients parse
 * one thing. `metadata.request_id` equals the `X-Request-Id` response header.
 */
export interface Envelope<T> {
  success: boolean;
  data: T | null;
  error: { code: string; message: string; fields?: FieldError[] } | null;
  metadata: { timestamp: string; request_id: string };
}

export function sendData<T>(res: Response, status: number, data: T): void {
  res.status(status).json(envelope(res, { success: true, data, error: null }));
}

export function sendError(res: Response, error: AppError): void {
  const body = {
    code: error.code,
    message: error.message,
    ...(error.fields ? { fields: error.fields } : {}),
  };
  res.status(error.httpStatus).json(envelope(res, { success: false, data: null, error: body }));
}

function envelope<T>(res: Response, content: Pick<Envelope<T>, 'success' | 'data' | 'error'>): Envelope<T> {
  return {
    ...content,
    metadata: { timestamp: new Date().toISOString(), request_id: String(res.locals.requestId ?? '') },
  };
}
