import path from 'node:path';
import { Router, type Express } from 'express';
import type { Logger } from '@te/platform';
import { z } from 'zod';
import { openApiDocumentOf } from './document.js';
import { notAnOperation, operation } from './operation.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

/** The same for everyone: shared caches may keep it a few minutes (it changes only with a release). */
const PUBLIC_CACHE = 'public, max-age=300';

/**
 * GET /api/v1/openapi.json: the OpenAPI 3.1 document, built from the app's own route registrations
 * the first time it is asked for, then kept in memory. Mount under /api/v1.
 */
export function openApiRoutes(logger: Logger): Router {
  const router = Router();
  let body: string | undefined;

  router.get(
    '/openapi.json',
    operation({
      tag: 'discovery',
      summary: 'This API as an OpenAPI 3.1 document',
      operationId: 'getOpenApiDocument',
      local: true,
      responses: {
        200: {
          description: 'The OpenAPI document (JSON Schema 2020-12 schemas)',
          content: { 'application/json': z.looseObject({ openapi: z.string() }) },
        },
      },
    }),
    (req, res) => {
      if (body === undefined) {
        const { document, problems } = openApiDocumentOf(req.app as Express);
        if (problems.length) logger.warn('the OpenAPI document is incomplete', { problems });
        body = JSON.stringify(document);
      }
      res.setHeader('Cache-Control', PUBLIC_CACHE); // overrides /api's no-store: nothing per-user here
      res.type('application/json').send(body);
    },
  );

  return router;
}

/** Swagger UI's files, served from the installed swagger-ui-dist (no CDN). */
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

/**
 * Only this origin's files: Swagger UI's bundle and the start-up script are files (no inline script),
 * its styles a stylesheet (React sets element styles through the DOM, which CSP does not govern).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>TE-explico API reference</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const INIT_SCRIPT = `'use strict';
window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_PATH)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
});
`;

/** GET /docs: the interactive API reference (Swagger UI) over /api/v1/openapi.json. Mount at /docs. */
export function apiReferenceRoutes(): Router {
  const router = Router();
  const page = notAnOperation('the API reference page and its files');
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY); // replaces helmet's for these pages
    res.setHeader('Cache-Control', PUBLIC_CACHE);
    next();
  });

  router.get('/', page, (_req, res) => {
    res.type('html').send(PAGE);
  });

  router.get('/init.js', page, (_req, res) => {
    res.type('text/javascript').send(INIT_SCRIPT);
  });

  router.get('/:file', page, (req, res, next) => {
    const file = String(req.params['file']);
    if (!ASSETS.has(file)) return next(); // → the API's 404
    res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1d' });
  });

  return router;
}
