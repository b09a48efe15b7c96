import { stripVTControlCharacters } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/index.js';
import { NO_SCHEMA_ENGINE } from '../src/commands/generate.command.js';
import { captureIo } from './support/sandbox.js';

const SCHEMA_WITH_CLIENT = `generator client {
  provider            = "prisma-client"
  output              = "../src/db/generated/prisma"
  moduleFormat        = "cjs"
  runtime             = "nodejs"
  importFileExtension = "js"
}

datasource db {
  provider = "postgresql"
}

model Item {
  id Int @id
}
`;

describe('generate', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'te-migrate-ws-'));
    await writeFile(
      path.join(root, 'package.json'),
      JSON.stringify({ name: 'ws', private: true, workspaces: ['apps/*'] }),
    );
    for (const service of ['alpha-service', 'beta-service']) {
      await mkdir(path.join(root, 'apps', service, 'prisma'), { recursive: true });
      await writeFile(path.join(root, 'apps', service, 'prisma', 'schema.prisma'), SCHEMA_WITH_CLIENT);
    }
    await mkdir(path.join(root, 'apps', 'no-db-service', 'src'), { recursive: true });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test('When generate --all runs anywhere in the workspace, then every service with a schema gets its client', async () => {
    const out = captureIo({}, path.join(root, 'apps', 'no-db-service', 'src'));

    const code = await main(['generate', '--all'], out.io);

    expect(code).toBe(0);
    for (const service of ['alpha-service', 'beta-service']) {
      expect(
        existsSync(path.join(root, 'apps', service, 'src', 'db', 'generated', 'prisma', 'client.ts')),
      ).toBe(true);
    }
    expect(existsSync(path.join(root, 'apps', 'no-db-service', 'src', 'db'))).toBe(false);
    expect(stripVTControlCharacters(out.stdout())).toContain('Generated Prisma Client');
  });

  test("When the schema is invalid, then generate fails with Prisma's message", async () => {
    const dir = path.join(root, 'broken');
    await cp(path.join(root, 'apps', 'alpha-service'), dir, { recursive: true });
    await writeFile(
      path.join(dir, 'prisma', 'schema.prisma'),
      `${SCHEMA_WITH_CLIENT}\nmodel Broken {\n  id Nope @id\n}\n`,
    );
    const out = captureIo({}, dir);

    const code = await main(['generate'], out.io);

    expect(code).toBe(1);
    expect(out.stderr()).toContain('prisma generate failed');
    expect(out.stderr()).toContain('Nope');
  });

  test('When anything runs the stand-in schema engine, then it refuses with a clear message', () => {
    const result = spawnSync(NO_SCHEMA_ENGINE, ['--version'], { encoding: 'utf8' });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('use te-migrate; the Prisma schema engine binary is not available here');
  });
});
