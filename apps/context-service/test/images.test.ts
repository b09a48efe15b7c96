import { AppError } from '@te/platform';
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { normaliseScreenshot, type NormaliseScreenshotOptions } from '../src/images/normalise-screenshot.js';
import { sniffImageType } from '../src/images/sniff-image-type.js';

const LIMITS: NormaliseScreenshotOptions = { maxWidth: 1920, maxHeight: 1080, maxPixels: 40_000_000 };

const solid = (width: number, height: number, colour = '#3366cc') =>
  sharp({ create: { width, height, channels: 3, background: colour } });

/** Random pixels, so encoded images are large enough to truncate meaningfully. */
const noise = (width: number, height: number) =>
  sharp(Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => (i * 7919) % 251)), {
    raw: { width, height, channels: 3 },
  });

/** 300×200: left half red, right half blue, so a rotation shows where the red went. */
async function halves(): Promise<sharp.Sharp> {
  const red = await solid(150, 200, '#ff0000').png().toBuffer();
  return solid(300, 200, '#0000ff').composite([{ input: red, left: 0, top: 0 }]);
}

const PRIVATE_EXIF = {
  IFD0: { Copyright: 'SECRET-OWNER', Make: 'TestCam' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1', GPSMapDatum: 'SECRET-PLACE' },
};

/** A PNG whose header claims width × height but carries almost no data: a decompression bomb. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, message: error.message };
    return { code: 'not an AppError', message: String(error) };
  }
  return { code: 'no error', message: '' };
}

describe('normaliseScreenshot', () => {
  it('When a JPEG carries EXIF, GPS and an orientation, then the PNG is upright and carries no metadata', async () => {
    const input = await (
      await halves()
    )
      .jpeg()
      .withExif(PRIVATE_EXIF)
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const before = await sharp(input).metadata();
    expect(before.orientation).toBe(6);
    expect(before.exif?.toString('latin1')).toContain('SECRET-PLACE');

    const result = await normaliseScreenshot(input, LIMITS);

    expect(result).toMatchObject({
      format: 'png',
      mediaType: 'image/png',
      originalFormat: 'jpeg',
      originalWidth: 200,
      originalHeight: 300,
      width: 200,
      height: 300,
    });
    const after = await sharp(result.data).metadata();
    expect(after).toMatchObject({ format: 'png', width: 200, height: 300 });
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.icc).toBeUndefined();
    expect(after.orientation).toBeUndefined();
    const bytes = result.data.toString('latin1');
    expect(bytes).not.toContain('SECRET-OWNER');
    expect(bytes).not.toContain('SECRET-PLACE');
    expect(bytes).not.toContain('eXIf');
    // Orientation 6 turns the picture 90° clockwise: the red left half is now the top half.
    const { data } = await sharp(result.data)
      .extract({ left: 100, top: 10, width: 1, height: 1 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[2]).toBeLessThan(50);
  });

  it('When a PNG has a Display P3 ICC profile, then it is converted to sRGB and the profile is dropped', async () => {
    const input = await solid(64, 64, '#00ff00').withIccProfile('p3').png().toBuffer();
    expect((await sharp(input).metadata()).icc).toBeDefined();

    const result = await normaliseScreenshot(input, LIMITS);

    const after = await sharp(result.data).metadata();
    expect(after.icc).toBeUndefined();
    expect(after.space).toBe('srgb');
    expect(result.originalFormat).toBe('png');
  });

  it('When a WebP with EXIF arrives as a stream, then its type comes from the bytes and the EXIF is gone', async () => {
    const input = await solid(320, 240).webp().withExif(PRIVATE_EXIF).toBuffer();
    expect((await sharp(input).metadata()).exif).toBeDefined();

    const result = await normaliseScreenshot(
      Readable.from([input.subarray(0, 100), input.subarray(100)]),
      LIMITS,
    );

    expect(result).toMatchObject({ originalFormat: 'webp', width: 320, height: 240, format: 'png' });
    expect((await sharp(result.data).metadata()).exif).toBeUndefined();
    expect(result.data.toString('latin1')).not.toContain('SECRET-PLACE');
  });

  it('When the image is larger than the bounds, then it is shrunk to fit with its aspect kept; small ones are not enlarged', async () => {
    const large = await normaliseScreenshot(await solid(4000, 3000).png().toBuffer(), LIMITS);
    expect({ width: large.width, height: large.height }).toEqual({ width: 1440, height: 1080 });
    expect({ originalWidth: large.originalWidth, originalHeight: large.originalHeight }).toEqual({
      originalWidth: 4000,
      originalHeight: 3000,
    });
    const meta = await sharp(large.data).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 1440, height: 1080 });

    const small = await normaliseScreenshot(await solid(120, 40).png().toBuffer(), LIMITS);
    expect({ width: small.width, height: small.height }).toEqual({ width: 120, height: 40 });
  });

  it('When a PNG header declares a huge canvas (decompression bomb), then it is refused before decoding', async () => {
    const bomb = pngHeaderOnly(60_000, 60_000);
    expect(bomb.length).toBeLessThan(200);
    const started = Date.now();

    expect(await failure(normaliseScreenshot(bomb, LIMITS))).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'The image is 60000×60000 pixels, more than the limit of 40000000',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('When a real image has more pixels than allowed, then it is refused naming its size', async () => {
    const input = await solid(2000, 1500).png().toBuffer();
    expect(await failure(normaliseScreenshot(input, { ...LIMITS, maxPixels: 1_000_000 }))).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'The image is 2000×1500 pixels, more than the limit of 1000000',
    });
  });

  it.each([
    ['a text file named .png', Buffer.from('This is a text file renamed to screenshot.png\n')],
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
    ['an empty file', Buffer.alloc(0)],
  ])('When the upload is %s, then it is UNSUPPORTED_MEDIA_TYPE', async (_name, input) => {
    expect(await failure(normaliseScreenshot(input, LIMITS))).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'The file is not a PNG, JPEG or WebP image',
    });
  });

  it('When the upload is a GIF or a TIFF, then it is UNSUPPORTED_MEDIA_TYPE even though sharp could read it', async () => {
    for (const input of [await solid(10, 10).gif().toBuffer(), await solid(10, 10).tiff().toBuffer()]) {
      expect((await failure(normaliseScreenshot(input, LIMITS))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it.each([
    ['PNG', () => noise(400, 300).png().toBuffer()],
    ['JPEG', () => noise(400, 300).jpeg().toBuffer()],
  ])('When a %s is truncated, then it is VALIDATION_FAILED as corrupt, not a 5xx', async (format, make) => {
    const whole = await make();
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    expect(await failure(normaliseScreenshot(truncated, LIMITS))).toEqual({
      code: 'VALIDATION_FAILED',
      message: `The ${format} image is corrupt or truncated`,
    });
  });

  it('When the stream is longer than maxInputBytes, then it is PAYLOAD_TOO_LARGE', async () => {
    const input = await noise(400, 300).png().toBuffer();
    const result = await failure(
      normaliseScreenshot(Readable.from([input]), { ...LIMITS, maxInputBytes: 1024 }),
    );
    expect(result.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('sniffImageType on encoded images', () => {
  it('When sharp encodes PNG, JPEG and WebP, then the type is read from the bytes whatever the name says', async () => {
    expect(sniffImageType(await solid(8, 8).png().toBuffer())).toBe('png');
    expect(sniffImageType(await solid(8, 8).jpeg().toBuffer())).toBe('jpeg');
    expect(sniffImageType(await solid(8, 8).webp().toBuffer())).toBe('webp');
    expect(sniffImageType(await solid(8, 8).avif().toBuffer())).toBeUndefined();
  });
});
