import { AppError } from '@te/platform';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { FilesystemObjectStorage } from './filesystem.object-storage.js';

const MEDIA_TYPES: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  webp: 'image/webp',
};

/**
 * Serves the filesystem driver's signed links (mount it at the driver's `urlBase`, e.g. on the HTTP
 * server in front of context-service). GET and HEAD only; every refusal is a bare status with the
 * error code, and the response can be cached privately no longer than the link lives.
 */
export async function serveSignedObject(
  storage: FilesystemObjectStorage,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new AppError('METHOD_NOT_ALLOWED', 'Signed links are read-only');
    }
    const { key, expiresAt } = storage.verifySignedUrl(request.url ?? '');
    const { body, size } = await storage.open(key);
    const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
    response.writeHead(200, {
      'Content-Type': MEDIA_TYPES[key.slice(key.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': `private, max-age=${maxAge}`,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
    if (request.method === 'HEAD') {
      body.destroy();
      response.end();
      return;
    }
    await pipeline(body, response);
  } catch (error) {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const failure = AppError.from(error);
    response.writeHead(failure.httpStatus, { 'Content-Type': 'text/plain; charset=utf-8' }).end(failure.code);
  }
}
