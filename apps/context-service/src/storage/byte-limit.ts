import { AppError } from '@te/platform';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

export interface ByteLimitOptions {
  /** Bodies longer than this are PAYLOAD_TOO_LARGE. */
  maxBytes: number;
  /** When the caller declared a length, a body of any other length is VALIDATION_FAILED. */
  expectedLength?: number;
}

/**
 * Passes bytes through unchanged while counting them, and fails the stream as soon as the body is
 * too long (without reading the rest) or, at its end, shorter than declared. Drivers put it between
 * the caller's stream and the destination so a lying or endless client cannot fill the disk.
 */
export class ByteLimit extends Transform {
  bytes = 0;

  constructor(private readonly options: ByteLimitOptions) {
    super();
    assertDeclaredLength(options);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const { maxBytes, expectedLength } = this.options;
    if (this.bytes > maxBytes) return callback(tooLarge(maxBytes));
    if (expectedLength !== undefined && this.bytes > expectedLength) {
      return callback(lengthMismatch(expectedLength, `more than ${expectedLength}`));
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expectedLength } = this.options;
    if (expectedLength !== undefined && this.bytes !== expectedLength) {
      return callback(lengthMismatch(expectedLength, String(this.bytes)));
    }
    callback();
  }
}

export function assertDeclaredLength({ maxBytes, expectedLength }: ByteLimitOptions): void {
  if (expectedLength === undefined) return;
  if (!Number.isSafeInteger(expectedLength) || expectedLength < 0) {
    throw new AppError('VALIDATION_FAILED', 'contentLength must be a whole number of bytes', {
      fields: [{ field: 'contentLength', message: 'must be a non-negative integer' }],
    });
  }
  if (expectedLength > maxBytes) throw tooLarge(maxBytes);
}

/** The same checks as ByteLimit, for a body already in memory. */
export function assertBodyLength(length: number, { maxBytes, expectedLength }: ByteLimitOptions): void {
  if (length > maxBytes) throw tooLarge(maxBytes);
  if (expectedLength !== undefined && length !== expectedLength) {
    throw lengthMismatch(expectedLength, String(length));
  }
}

/** Reads a whole stream into memory, refusing (and stopping) past `maxBytes`. */
export async function readBounded(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += buffer.length;
    if (total > maxBytes) {
      body.destroy();
      throw tooLarge(maxBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The file is larger than the limit of ${maxBytes} bytes`, {
    details: { maxBytes },
  });
}

function lengthMismatch(expected: number, actual: string): AppError {
  return new AppError('VALIDATION_FAILED', `The body has ${actual} bytes, not the declared ${expected}`, {
    fields: [{ field: 'contentLength', message: `declared ${expected}, received ${actual}` }],
  });
}
