import { EventEmitter } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { dropDatabaseIfExists, withDatabase } from '@te/prisma-migrate';
import { infrastructureTargets } from '../src/infrastructure/infrastructure-check.js';
import type { StackService } from '../src/service-catalog.js';
import { DEFAULTS, loadStackConfig, type StackConfig } from '../src/stack-config.js';
import { runStack, type StackIo } from '../src/stack-runner.js';
import { FIXTURES, Output, freePort } from './helpers.js';

jest.setTimeout(60_000);

const RUN_ID = `${process.pid}${Date.now() % 100_000}`;

function config(overrides: Partial<StackConfig> = {}): StackConfig {
  return {
    ...loadStackConfig(process.env, FIXTURES),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 10_000,
    ...overrides,
  };
}

async function fixtureService(
  name: string,
  tier: StackService['tier'],
  env: Record<string, string> = {},
  script = 'ready-service.mjs',
): Promise<StackService> {
  const port = await freePort();
  return {
    name,
    tier,
    entry: path.join(FIXTURES, script),
    env: { SERVICE_NAME: name, PORT: String(port), ...env },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    ports: [port],
  };
}

function io(output: Output): StackIo {
  return {
    stdout: { write: (text: string) => output.write(text, 'stdout'), isTTY: false },
    stderr: { write: (text: string) => output.write(text, 'stderr') },
    env: { PATH: process.env['PATH'] },
  };
}

describe('runStack', () => {
  it('When every service becomes ready, then the banner is printed and SIGTERM stops the gateway first, then the rest, with exit 0', async () => {
    const output = new Output();
    const signals = new EventEmitter();
    const services = [
      await fixtureService('backend-a', 'backend', { READY_AFTER_MS: '200' }),
      await fixtureService('backend-b', 'backend'),
      await fixtureService('gateway', 'gateway', { STOP_DELAY_MS: '200' }),
    ];

    const code = await runStack({
      config: config(),
      services,
      io: io(output),
      signals,
      onReady: () => signals.emit('SIGTERM'),
    });

    expect(code).toBe(0);
    const text = output.text();
    expect(text).toMatch(/^stack {5}\| PostgreSQL 127\.0\.0\.1:5432 ok \(\d+ ms\)$/m);
    expect(text).toContain('stack     | Starting backend-a, backend-b ...');
    expect(text).toContain('stack     | Ready: gateway');
    expect(text).toContain('stack     | TE-explico is running');
    expect(text).toContain(
      "curl -s -X POST http://localhost:8080/api/v1/auth/register -H 'content-type: application/json'",
    );
    expect(output.indexOf('Starting gateway')).toBeGreaterThan(output.indexOf('Ready: backend-a, backend-b'));
    const gatewayExiting = output.lines.findIndex(
      (l) => l.text.startsWith('gateway ') && l.text.includes('"exiting"'),
    );
    const backendStopping = output.lines.findIndex(
      (l) => l.text.startsWith('backend-a') && l.text.includes('SIGTERM received'),
    );
    expect(backendStopping).toBeGreaterThan(gatewayExiting);
    expect(text).toContain('stack     | backend-a: exit code 0');
    expect(text).toContain('stack     | gateway: exit code 0');
    expect(text).toContain('stack     | All services stopped.');
  });

  it('When a backend exits at once, then the gateway never starts and it resolves 1 with the backend’s last lines', async () => {
    const output = new Output();
    const services = [
      await fixtureService('backend-a', 'backend'),
      await fixtureService('broken', 'backend', {}, 'exit-at-once.mjs'),
      await fixtureService('gateway', 'gateway'),
    ];

    const code = await runStack({ config: config(), services, io: io(output), signals: new EventEmitter() });

    expect(code).toBe(1);
    const errors = output.text('stderr');
    expect(errors).toContain('stack     | broken did not start: exited before it was ready (exit code 3)');
    expect(errors).toContain('    broken    | Error: DATABASE_URL is required');
    expect(errors).toContain('stack     | The stack failed; see above.');
    expect(output.indexOf('Starting gateway')).toBe(-1);
    expect(output.text()).toContain('stack     | backend-a: exit code 0');
  });

  it('When a running service crashes, then the others are stopped and it resolves 1', async () => {
    const output = new Output();
    const services = [
      await fixtureService('backend-a', 'backend', { CRASH_AFTER_MS: '3000' }),
      await fixtureService('gateway', 'gateway'),
    ];

    const code = await runStack({ config: config(), services, io: io(output), signals: new EventEmitter() });

    expect(code).toBe(1);
    expect(output.text('stderr')).toContain(
      'stack     | backend-a stopped unexpectedly (exit code 7); stopping the others.',
    );
    expect(output.text()).toContain('stack     | gateway: exit code 0');
  });

  it('When Redis is unreachable, then it resolves 1 naming Redis and how to start it, and starts nothing', async () => {
    const output = new Output();
    const port = await freePort();
    const cfg = config();
    const services = [await fixtureService('backend-a', 'backend')];

    const code = await runStack({
      config: cfg,
      services,
      io: io(output),
      signals: new EventEmitter(),
      infrastructure: infrastructureTargets({ ...cfg, redisUrl: `redis://127.0.0.1:${port}` }),
    });

    expect(code).toBe(1);
    const errors = output.text('stderr');
    expect(errors).toContain(`Redis at 127.0.0.1:${port}`);
    expect(errors).toContain('docker compose up -d redis');
    expect(errors).toContain('redis-server --daemonize yes');
    expect(output.indexOf('Starting')).toBe(-1);
  });

  it('When a service port is already taken, then it resolves 1 naming the port and starts nothing', async () => {
    const output = new Output();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      const service = { ...(await fixtureService('backend-a', 'backend')), ports: [port] };

      const code = await runStack({
        config: config(),
        services: [service],
        io: io(output),
        signals: new EventEmitter(),
      });

      expect(code).toBe(1);
      expect(output.text('stderr')).toContain(`Port(s) already in use: ${port}.`);
      expect(output.indexOf('Starting')).toBe(-1);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('When a service has a database, then it is created and migrated before the service starts with its DATABASE_URL', async () => {
    const output = new Output();
    const signals = new EventEmitter();
    const database = `te_stack_t${RUN_ID}`;
    const url = withDatabase(process.env['DATABASE_ADMIN_URL'] || DEFAULTS.databaseAdminUrl, database);
    const service = await fixtureService('backend-a', 'backend', { DATABASE_URL: url });
    service.database = { name: database, url, schemaPath: path.join(FIXTURES, 'prisma', 'schema.prisma') };
    try {
      const code = await runStack({
        config: config(),
        services: [service],
        io: io(output),
        signals,
        onReady: () => signals.emit('SIGINT'),
      });

      expect(code).toBe(0);
      expect(output.text()).toContain(
        `stack     | backend-a: database ${database} created, 1 migration applied (20260101000000_init)`,
      );
      expect(output.indexOf('Starting backend-a')).toBeGreaterThan(output.indexOf(`database ${database}`));
    } finally {
      await dropDatabaseIfExists(url);
    }
  });
});

describe('runStack and Ctrl-C', () => {
  it('When one Ctrl-C arrives twice at once (terminal and npm), then the services still stop gracefully with exit 0', async () => {
    const output = new Output();
    const signals = new EventEmitter();
    const services = [
      await fixtureService('backend-a', 'backend'),
      await fixtureService('gateway', 'gateway', { STOP_DELAY_MS: '300' }),
    ];

    const code = await runStack({
      config: config(),
      services,
      io: io(output),
      signals,
      onReady: () => {
        signals.emit('SIGINT');
        signals.emit('SIGINT');
      },
    });

    expect(code).toBe(0);
    expect(output.text()).not.toContain('again: killing');
    expect(output.text()).toContain('stack     | gateway: exit code 0');
  });

  it('When a second Ctrl-C comes later while a service hangs, then what still runs is killed and it resolves 1', async () => {
    const output = new Output();
    const signals = new EventEmitter();
    const services = [
      await fixtureService('backend-a', 'backend', { IGNORE_SIGTERM: '1' }),
      await fixtureService('gateway', 'gateway'),
    ];

    const code = await runStack({
      config: config(),
      services,
      io: io(output),
      signals,
      onReady: () => {
        signals.emit('SIGINT');
        setTimeout(() => signals.emit('SIGINT'), 1_200);
      },
    });

    expect(code).toBe(1);
    expect(output.text('stderr')).toContain('stack     | SIGINT again: killing backend-a.');
    expect(output.text('stderr')).toContain(
      'stack     | backend-a: killed with SIGKILL (did not stop in time)',
    );
    expect(output.text()).toContain('stack     | gateway: exit code 0');
  });
});
