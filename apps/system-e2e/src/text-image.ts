import sharp from 'sharp';

/**
 * A real "screenshot" for the OCR path: black sans-serif lines on white, rendered from SVG by sharp's
 * librsvg with the machine's fonts (DejaVu here). The same renderer as context-service's test support
 * (apps/context-service/test/support/text-image.ts), kept small. Fails loudly when no font drew
 * anything, so an OCR assertion never fails for a reason that has nothing to do with OCR.
 */
export async function renderScreenshot(
  lines: string[],
  size = { width: 1000, height: 300 },
): Promise<Buffer> {
  const fontSize = 40;
  const lineHeight = Math.round(fontSize * 1.8);
  const texts = lines.map(
    (line, index) =>
      `<text x="40" y="${lineHeight * (index + 1)}" font-family="sans-serif" font-size="${fontSize}" fill="#000">${escapeXml(line)}</text>`,
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}"><rect width="100%" height="100%" fill="#fff"/>${texts.join('')}</svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  const { channels } = await sharp(png).stats();
  if (channels[0].min > 128) {
    throw new Error('librsvg drew no text: no font is available to fontconfig (install fonts-dejavu-core)');
  }
  return png;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
