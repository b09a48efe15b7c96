import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithRequestContext } from '@te/platform';

export const REQUEST_ID_HEADER = 'x-request-id';

// A caller-supplied id is echoed only when it is safe to put in logs and headers.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the request id from `X-Request-Id` (or makes one), echoes it, and opens the request context. */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    // req.ip honours the 'trust proxy' setting (the real client behind our load balancer).
    const client = { ip: req.ip, userAgent: req.get('user-agent') };
    runWithRequestContext({ requestId, client }, () => next());
  };
}
