import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a fake provider received: asserted on to prove the adapter's wire shape. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** True once the client closed the connection before the response was finished. */
  clientGone: boolean;
}

export type Handler = (request: ReceivedRequest, response: ServerResponse, raw: IncomingMessage) => unknown;

export interface LoopbackServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that plays a third-party API: each request's body is read whole,
 * recorded, then handed to `handler`. close() destroys open sockets, so hung handlers end too.
 */
export async function startLoopbackServer(handler: Handler): Promise<LoopbackServer> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((raw, response) => {
    const chunks: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => chunks.push(chunk));
    raw.on('end', () => {
      const received: ReceivedRequest = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        clientGone: false,
      };
      response.on('close', () => {
        if (!response.writableFinished) received.clientGone = true;
      });
      requests.push(received);
      Promise.resolve(handler(received, response, raw)).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Writes `payload` in pieces cut at the given byte offsets, each piece flushed before the next. */
export async function writeInPieces(
  response: ServerResponse,
  payload: string | Buffer,
  cuts: number[],
): Promise<void> {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const points = [...new Set([0, ...cuts.filter((cut) => cut > 0 && cut < bytes.length), bytes.length])].sort(
    (a, b) => a - b,
  );
  for (let index = 1; index < points.length; index++) {
    const piece = bytes.subarray(points[index - 1], points[index]);
    await new Promise<void>((resolve, reject) =>
      response.write(piece, (error) => (error ? reject(error) : resolve())),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Byte offsets that cut `payload` at awkward places: inside a UTF-8 character, between CR and LF, inside "data:". */
export function awkwardCuts(payload: string): number[] {
  const bytes = Buffer.from(payload, 'utf8');
  const cuts: number[] = [];
  for (let index = 1; index < bytes.length; index++) {
    const byte = bytes[index];
    const previous = bytes[index - 1];
    if ((byte & 0xc0) === 0x80) cuts.push(index); // continuation byte: mid-character
    if (previous === 0x0d && byte === 0x0a) cuts.push(index); // between CR and LF
    if (bytes.subarray(index - 3, index + 2).toString('latin1') === 'data:') cuts.push(index); // "dat|a:"
  }
  return cuts;
}

export function sseStartHeaders(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.flushHeaders();
}

/** Polls until `predicate` holds (no fixed sleeps), failing after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean,
  description: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collects a stream's events, and the error that ended it if any. */
export async function drain<T>(iterable: AsyncIterable<T>): Promise<{ events: T[]; error?: unknown }> {
  const events: T[] = [];
  try {
    for await (const event of iterable) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}
