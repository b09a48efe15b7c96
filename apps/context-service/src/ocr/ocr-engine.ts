/** Pixel box of a recognised line, in the coordinates of the uploaded image (x0,y0 top-left; x1,y1 bottom-right). */
export interface OcrBoundingBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface OcrLine {
  text: string;
  /** 0–100, the engine's confidence for the line. */
  confidence: number;
  bbox: OcrBoundingBox;
}

export interface OcrResult {
  /** The recognised text, lines separated by '\n' (empty for an image without text). */
  text: string;
  /** 0–100: the mean confidence of the recognised words (0 when there are none). */
  confidence: number;
  /** Number of recognised words. */
  words: number;
  lines: OcrLine[];
  durationMs: number;
}

export interface RecogniseOptions {
  /** Aborting gives up the job (and the engine drops the busy worker): the call rejects with UNAVAILABLE. */
  signal?: AbortSignal;
}

/**
 * Turns an image into text. Implementations reject with an AppError: a 4xx code for an image that can
 * never be read (retrying is pointless), a 5xx code for anything worth retrying.
 */
export interface OcrEngine {
  recognise(image: Buffer, options?: RecogniseOptions): Promise<OcrResult>;
  close(): Promise<void>;
}
