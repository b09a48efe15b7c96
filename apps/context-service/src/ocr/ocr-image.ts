import { AppError } from '@te/platform';
import sharp from 'sharp';

// Raster formats only: an SVG or PDF "screenshot" would make the decoder fetch or render arbitrary content.
const RASTER_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export interface PreparedImage {
  png: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes any image sharp reads (PNG, JPEG, WebP, …) and re-encodes it as the plain greyscale PNG
 * Tesseract reads best: EXIF orientation applied, transparency flattened onto white (a transparent
 * screenshot would otherwise read as black on black). Tesseract's own decoder (Leptonica in wasm) never
 * sees raw upload bytes, so a broken file fails here with a 4xx instead of inside the OCR worker.
 */
export async function prepareImageForOcr(
  image: Buffer,
  options: { maxPixels: number },
): Promise<PreparedImage> {
  if (!Buffer.isBuffer(image) || image.length === 0) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'The attachment is empty, not an image');
  }
  const input = { limitInputPixels: options.maxPixels, failOn: 'error' } as const;
  try {
    const { format } = await sharp(image, input).metadata();
    if (!RASTER_FORMATS.has(format)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Images of type ${format} are not read by OCR`, {
        details: { format },
      });
    }
    const { data, info } = await sharp(image, input)
      .rotate()
      .flatten({ background: '#ffffff' })
      .greyscale()
      .png({ compressionLevel: 1 })
      .toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height };
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/pixel limit/i.test(message)) {
      throw new AppError('PAYLOAD_TOO_LARGE', `The image has more than ${options.maxPixels} pixels`, {
        cause: error,
        details: { maxPixels: options.maxPixels },
      });
    }
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'The attachment is not a readable image', {
      cause: error,
      details: { reason: message },
    });
  }
}
