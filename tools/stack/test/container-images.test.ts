import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stackServices } from '../src/service-catalog.js';
import { DEFAULT_ROOT_DIR, loadStackConfig } from '../src/stack-config.js';

// No Docker engine runs here (docs/decisions/0003-container-images.md): these checks read each
// apps/<service>/Dockerfile and hold it to the ports and entry points `npm start` uses.
const ROOT = DEFAULT_ROOT_DIR;
const services = stackServices(loadStackConfig({}, ROOT));

/** Instructions with their continuation lines joined and blanks collapsed; comments dropped. */
function instructions(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe.each(services.map((service) => [service.name, service] as const))(
  'apps/%s/Dockerfile',
  (name, service) => {
    const file = path.join(ROOT, 'apps', name, 'Dockerfile');
    const lines = existsSync(file) ? instructions(readFileSync(file, 'utf8')) : [];
    const find = (keyword: string) => lines.filter((line) => line.startsWith(`${keyword} `));

    it('When read, then it exists and its runtime stage runs the built service as uid 1000 in exec form', () => {
      expect(lines.length).toBeGreaterThan(0);
      expect(find('FROM').at(-1)).toBe('FROM ${NODE_IMAGE} AS runtime');
      expect(find('ARG')[0]).toBe('ARG NODE_IMAGE=node:24-bookworm-slim');
      expect(find('USER')).toEqual(['USER 1000:1000']);
      expect(find('STOPSIGNAL')).toEqual(['STOPSIGNAL SIGTERM']);
      expect(JSON.parse((find('CMD').at(-1) ?? 'CMD null').slice('CMD '.length))).toEqual([
        'node',
        `apps/${name}/dist/main.js`,
      ]);
      expect(lines).toContain('ENV NODE_ENV=production PROTO_ROOT=/app/proto');
    });

    it('When read, then it exposes the ports of docs/architecture.md and its health check asks the readiness port', () => {
      expect(find('EXPOSE')).toEqual([`EXPOSE ${service.ports.join(' ')}`]);
      const healthcheck = find('HEALTHCHECK');
      expect(healthcheck).toHaveLength(1);
      const command = JSON.parse(healthcheck[0].slice(healthcheck[0].indexOf('CMD ') + 4)) as string[];
      const readyPort = new URL(service.readyUrl).port;
      expect(command.slice(0, 2)).toEqual(['node', '-e']);
      expect(command[2]).toContain(`(process.env.HTTP_PORT || ${readyPort}) + '/readyz'`);
    });

    it('When read, then every file it copies from the build context exists in the repository', () => {
      const sources = find('COPY')
        .filter((line) => !line.includes('--from='))
        .flatMap((line) =>
          line
            .split(/\s+/)
            .slice(1, -1)
            .filter((part) => !part.startsWith('--')),
        );
      // The manifests stage copies these by name (the package.json globs need no check).
      const named = ['package.json', 'package-lock.json', '.npmrc'];
      expect(lines.join('\n')).toContain(`cp --parents ${named.join(' ')} `);
      expect(sources.length).toBeGreaterThan(0);
      for (const source of [...sources, ...named]) {
        expect([source, existsSync(path.join(ROOT, source))]).toEqual([source, true]);
      }
    });

    it('When it has a database, then the image installs and builds the migration tool, and only then', () => {
      const text = lines.join('\n');
      const migrates = service.database !== undefined;
      expect(text.includes('--workspace @te/prisma-migrate')).toBe(migrates);
      expect(text.includes(`--projects=${name}${migrates ? ',prisma-migrate' : ''} `)).toBe(true);
      expect(text).toContain(`--workspace @te/${name} `);
      expect(text).toContain(`assemble-runtime.sh /prod /out ${name}`);
    });
  },
);
