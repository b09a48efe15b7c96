import type { Response } from 'express';
import { writeChunk } from './write-chunk.js';

/**
 * Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html) on an Express
 * response: the headers once, then each event written as it comes (nothing buffered: X-Accel-Buffering
 * tells nginx-style proxies so), holding the producer back while the socket is full.
 */
export function openEventStream(res: Response): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
}

/**
 * One event of a single `data:` line and no name (the default `message` event), e.g.
 * `writeData(res, JSON.stringify(chunk))` — JSON.stringify escapes line breaks. Resolves once the
 * socket took it, or the client is gone.
 */
export function writeData(res: Response, line: string): Promise<void> {
  return writeChunk(res, `data: ${line}\n\n`);
}

/** One named event (`event: <name>`) whose data is one line, e.g. JSON. */
export function writeEvent(res: Response, name: string, line: string): Promise<void> {
  return writeChunk(res, `event: ${name}\ndata: ${line}\n\n`);
}

/**
 * One named event with an `id:` (what the client sends back as Last-Event-ID when it reconnects).
 * The id must not contain line breaks or NUL; the data is one line (JSON).
 */
export function writeIdentifiedEvent(res: Response, id: string, name: string, line: string): Promise<void> {
  return writeChunk(res, `id: ${id}\nevent: ${name}\ndata: ${line}\n\n`);
}

/** The reconnection delay the client should use (`retry:`), in milliseconds. */
export function writeRetry(res: Response, milliseconds: number): Promise<void> {
  return writeChunk(res, `retry: ${Math.floor(milliseconds)}\n\n`);
}

/**
 * A comment line (`: text`): ignored by clients, it keeps proxies from closing an idle stream. Skipped
 * while the socket is full (the client is not reading, so it is not idle either).
 */
export function writeComment(res: Response, text: string): void {
  if (!res.writableNeedDrain) res.write(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
}
