import net from 'node:net';
import path from 'node:path';

export const FIXTURES = path.join(__dirname, 'fixtures');

/** A port nothing listens on right now (bound to 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Collects labelled output lines of a supervisor or of runStack. */
export class Output {
  readonly lines: { text: string; stream: 'stdout' | 'stderr' }[] = [];

  write = (text: string, stream: 'stdout' | 'stderr'): void => {
    for (const line of text.split('\n').filter((l) => l !== '')) this.lines.push({ text: line, stream });
  };

  text(stream?: 'stdout' | 'stderr'): string {
    return this.lines
      .filter((line) => !stream || line.stream === stream)
      .map((line) => line.text)
      .join('\n');
  }

  indexOf(fragment: string): number {
    return this.lines.findIndex((line) => line.text.includes(fragment));
  }
}
