/** The image formats accepted from users; anything else is refused before a decoder sees it. */
export type ImageType = 'png' | 'jpeg' | 'webp';

export const IMAGE_MEDIA_TYPES: Record<ImageType, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** Bytes needed by `sniffImageType`. */
export const SNIFF_BYTES = 12;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89PNG\r\n\x1a\n (PNG spec §5.2)
const JPEG = [0xff, 0xd8, 0xff]; // SOI marker + the first byte of the next marker
const RIFF = [0x52, 0x49, 0x46, 0x46]; // 'RIFF' <4-byte size> 'WEBP' (RFC 9649 §2.5)
const WEBP = [0x57, 0x45, 0x42, 0x50];

/**
 * The type from the file's magic bytes only: a declared Content-Type or file name is never trusted
 * (a text file named .png, an SVG sent as image/png). Undefined for anything else.
 */
export function sniffImageType(firstBytes: Uint8Array): ImageType | undefined {
  if (startsWith(firstBytes, PNG)) return 'png';
  if (startsWith(firstBytes, JPEG)) return 'jpeg';
  if (startsWith(firstBytes, RIFF) && startsWith(firstBytes.subarray(8), WEBP)) return 'webp';
  return undefined;
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((byte, index) => bytes[index] === byte);
}
