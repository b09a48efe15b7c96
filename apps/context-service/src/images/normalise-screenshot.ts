import { AppError } from '@te/platform';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { assertBodyLength, readBounded } from '../storage/byte-limit.js';
import { SNIFF_BYTES, sniffImageType, type ImageType } from './sniff-image-type.js';

export interface NormaliseScreenshotOptions {
  /** The output fits inside maxWidth × maxHeight (aspect kept, never enlarged). */
  maxWidth: number;
  maxHeight: number;
  /** Images whose header declares more pixels are refused before decoding (decompression bombs). */
  maxPixels: number;
  /** Largest encoded input read (default 20 MiB). */
  maxInputBytes?: number;
  /** Processing is abandoned after this long (default 20 s). */
  timeoutSeconds?: number;
}

export interface NormalisedScreenshot {
  data: Buffer;
  width: number;
  height: number;
  format: 'png';
  mediaType: 'image/png';
  originalFormat: ImageType;
  /** As displayed, i.e. after the EXIF orientation. */
  originalWidth: number;
  originalHeight: number;
}

const DEFAULT_MAX_INPUT_BYTES = 20 * 1024 * 1024;

/**
 * Turns an uploaded screenshot into a clean PNG: the format is taken from the magic bytes (PNG, JPEG or
 * WebP only, so SVG, PDF, TIFF… never reach a decoder), the pixel count is checked from the header
 * before anything is decoded, the EXIF orientation is applied, every piece of metadata (EXIF, GPS, XMP,
 * ICC after conversion to sRGB) is dropped, and the size is bounded. PNG is lossless, which suits OCR.
 * Bad input is a 4xx AppError naming the problem, never a 5xx.
 */
export async function normaliseScreenshot(
  input: Buffer | Readable,
  options: NormaliseScreenshotOptions,
): Promise<NormalisedScreenshot> {
  const maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const data = Buffer.isBuffer(input) ? input : await readBounded(input, maxInputBytes);
  assertBodyLength(data.length, { maxBytes: maxInputBytes });

  const originalFormat = sniffImageType(data.subarray(0, SNIFF_BYTES));
  if (!originalFormat) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'The file is not a PNG, JPEG or WebP image', {
      details: { accepted: ['image/png', 'image/jpeg', 'image/webp'] },
    });
  }

  // Header only: nothing is decoded yet, so a bomb costs nothing here.
  const header = await sharp(data, { limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw unreadable(originalFormat, error);
    });
  if (header.format !== originalFormat)
    throw unreadable(originalFormat, new Error(`decoder saw ${header.format}`));
  const pixels = header.width * header.height;
  if (pixels > options.maxPixels) {
    throw new AppError(
      'VALIDATION_FAILED',
      `The image is ${header.width}×${header.height} pixels, more than the limit of ${options.maxPixels}`,
      {
        fields: [{ field: 'image', message: 'too many pixels' }],
        details: { width: header.width, height: header.height },
      },
    );
  }

  try {
    const { data: output, info } = await sharp(data, {
      limitInputPixels: options.maxPixels, // second line of defence, enforced by libvips itself
      failOn: 'warning', // truncated or corrupt pixel data is an error, not a half-grey picture
    })
      .autoOrient()
      .resize({ width: options.maxWidth, height: options.maxHeight, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .png() // without keepMetadata()/withMetadata() sharp writes no EXIF, XMP or ICC chunk
      .timeout({ seconds: options.timeoutSeconds ?? 20 })
      .toBuffer({ resolveWithObject: true });
    return {
      data: output,
      width: info.width,
      height: info.height,
      format: 'png',
      mediaType: 'image/png',
      originalFormat,
      originalWidth: header.autoOrient.width,
      originalHeight: header.autoOrient.height,
    };
  } catch (error) {
    throw unreadable(originalFormat, error);
  }
}

function unreadable(format: ImageType, cause: unknown): AppError {
  if (cause instanceof Error && /timeout/i.test(cause.message)) {
    return new AppError('VALIDATION_FAILED', 'The image took too long to process', {
      fields: [{ field: 'image', message: 'processing timed out' }],
      cause,
    });
  }
  return new AppError('VALIDATION_FAILED', `The ${format.toUpperCase()} image is corrupt or truncated`, {
    fields: [{ field: 'image', message: 'cannot be decoded' }],
    cause,
  });
}
