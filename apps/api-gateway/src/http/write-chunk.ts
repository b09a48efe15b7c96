import type { Response } from 'express';

/**
 * Writes one chunk of a streamed answer and resolves once the socket took it, or the client is gone:
 * a slow reader holds the producer (a gRPC stream) back instead of the gateway buffering for it.
 */
export async function writeChunk(res: Response, chunk: string | Buffer): Promise<void> {
  if (res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
