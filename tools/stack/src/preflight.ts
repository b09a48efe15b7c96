import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The services' entry files that do not exist (`npm run build` writes them). */
export function missingEntries(services: { name: string; entry: string }[], rootDir: string): string[] {
  return services
    .filter((service) => !existsSync(service.entry))
    .map((service) => path.relative(rootDir, service.entry));
}

/** Ports some other process already listens on. A leftover service would otherwise answer our readiness polls. */
export async function portsInUse(ports: number[]): Promise<number[]> {
  const busy = await Promise.all(ports.map(async (port) => ((await canListen(port)) ? undefined : port)));
  return busy.filter((port): port is number => port !== undefined);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    // No host: the dual-stack wildcard, which collides with a listener on any local address.
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
