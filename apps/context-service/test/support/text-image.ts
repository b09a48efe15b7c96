import sharp from 'sharp';

export interface TextImageOptions {
  lines: string[];
  width?: number;
  height?: number;
  fontSize?: number;
  /** Top-left x of every line. */
  x?: number;
}

/**
 * A real "screenshot": black sans-serif text on white, rendered from SVG by sharp's librsvg with the
 * machine's fonts (Debian's DejaVu here). Fails loudly if no font drew anything, rather than letting an
 * OCR assertion fail for a reason that has nothing to do with OCR.
 */
export async function renderTextImage(options: TextImageOptions): Promise<Buffer> {
  const { lines, width = 1000, height = 300, fontSize = 40, x = 40 } = options;
  const lineHeight = Math.round(fontSize * 1.8);
  const texts = lines.map(
    (line, index) =>
      `<text x="${x}" y="${lineHeight * (index + 1)}" font-family="sans-serif" font-size="${fontSize}" fill="#000">${escapeXml(line)}</text>`,
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${texts.join('')}</svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  const { channels } = await sharp(png).stats();
  if (lines.some((line) => line.trim() !== '') && channels[0].min > 128) {
    throw new Error('librsvg drew no text: no font is available to fontconfig (install fonts-dejavu-core)');
  }
  return png;
}

export async function blankImage(width = 800, height = 300): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
