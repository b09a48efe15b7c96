/** ANSI colours for labels and levels; every function returns the text unchanged when colour is off. */
export interface Paint {
  enabled: boolean;
  label(index: number, text: string): string;
  level(level: string, text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
}

// Foreground colours that read well on dark and light terminals; red is kept for errors.
const LABEL_COLOURS = [36, 35, 33, 34, 32, 96, 95, 93, 94, 92];
const LEVEL_COLOURS: Record<string, number> = {
  error: 31,
  warn: 33,
  info: 32,
  http: 36,
  verbose: 36,
  debug: 90,
  silly: 90,
};

/**
 * Colour only for a terminal, and never when NO_COLOR is set to a non-empty value (https://no-color.org);
 * FORCE_COLOR (non-empty, not "0") turns it on for a pipe.
 */
export function shouldUseColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR']) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0';
  return stream.isTTY === true;
}

export function createPaint(enabled: boolean): Paint {
  const sgr = (code: number, text: string): string => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    enabled,
    label: (index, text) => sgr(LABEL_COLOURS[index % LABEL_COLOURS.length], text),
    level: (level, text) => sgr(LEVEL_COLOURS[level] ?? 37, text),
    dim: (text) => sgr(2, text),
    bold: (text) => sgr(1, text),
    red: (text) => sgr(31, text),
    green: (text) => sgr(32, text),
  };
}
