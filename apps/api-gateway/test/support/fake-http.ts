import type { NextFunction, Request, Response } from 'express';

/** A stand-in for Express's response that records what a middleware did to it (no sockets). */
export interface RecordedResponse {
  res: Response;
  statusCode?: number;
  body?: unknown;
  headers: Record<string, string>;
}

export function fakeResponse(locals: Record<string, unknown> = {}, headersSent = false): RecordedResponse {
  const recorded: RecordedResponse = { headers: {}, res: undefined as unknown as Response };
  const res = {
    locals,
    headersSent,
    status(code: number) {
      recorded.statusCode = code;
      return res;
    },
    json(body: unknown) {
      recorded.body = body;
      return res;
    },
    setHeader(name: string, value: string) {
      recorded.headers[name.toLowerCase()] = value;
      return res;
    },
  };
  recorded.res = res as unknown as Response;
  return recorded;
}

/** A request with the given headers (names case-insensitive, like Express's req.get). */
export function fakeRequest(
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Request {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, get: (name: string) => lower[name.toLowerCase()], ...extra } as unknown as Request;
}

export function recordingNext(): NextFunction & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  const next = ((...args: unknown[]) => {
    calls.push(args);
  }) as NextFunction & { calls: unknown[][] };
  next.calls = calls;
  return next;
}
