import net from 'node:net';
import {
  checkInfrastructure,
  formatInfrastructureFailure,
  infrastructureTargets,
} from '../src/infrastructure/infrastructure-check.js';
import { DEFAULTS } from '../src/stack-config.js';
import { freePort } from './helpers.js';

jest.setTimeout(20_000);

// The machine's own servers (docs/architecture.md, Tests); CI starts them in .ci/run.
const MACHINE = {
  databaseAdminUrl: process.env['DATABASE_ADMIN_URL'] || DEFAULTS.databaseAdminUrl,
  redisUrl: process.env['REDIS_URL'] || DEFAULTS.redisUrl,
  amqpUrl: process.env['AMQP_URL'] || DEFAULTS.amqpUrl,
};

describe('checkInfrastructure', () => {
  it('When PostgreSQL, Redis and RabbitMQ run on this machine, then every check passes', async () => {
    const results = await checkInfrastructure(infrastructureTargets(MACHINE), 5_000);

    expect(results.map(({ target, ok, error }) => ({ name: target.name, ok, error }))).toEqual([
      { name: 'PostgreSQL', ok: true, error: undefined },
      { name: 'Redis', ok: true, error: undefined },
      { name: 'RabbitMQ', ok: true, error: undefined },
    ]);
    expect(formatInfrastructureFailure(results)).toBe('');
  });

  it('When nothing listens on their ports, then each check fails and the message names it, its address and how to start it', async () => {
    const [pg, redis, amqp] = [await freePort(), await freePort(), await freePort()];
    const targets = infrastructureTargets({
      databaseAdminUrl: `postgresql://postgres@127.0.0.1:${pg}/postgres`,
      redisUrl: `redis://127.0.0.1:${redis}`,
      amqpUrl: `amqp://guest:guest@127.0.0.1:${amqp}`,
    });

    const results = await checkInfrastructure(targets, 2_000);
    const message = formatInfrastructureFailure(results);

    expect(results.every((result) => !result.ok)).toBe(true);
    expect(message).toContain(
      `PostgreSQL at 127.0.0.1:${pg} (DATABASE_ADMIN_URL=postgresql://postgres@127.0.0.1:${pg}/postgres): `,
    );
    expect(message).toContain(`Redis at 127.0.0.1:${redis} (REDIS_URL=redis://127.0.0.1:${redis}): `);
    expect(message).toContain(
      `RabbitMQ at 127.0.0.1:${amqp} (AMQP_URL=amqp://guest:***@127.0.0.1:${amqp}): `,
    );
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('docker compose up -d postgres redis rabbitmq');
    expect(message).toContain('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start');
    expect(message).toContain('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379');
    expect(message).toContain('rabbitmq-server -detached');
  });

  it('When only one is missing, then the message names that one and its start command only', async () => {
    const port = await freePort();
    const results = await checkInfrastructure(
      infrastructureTargets({ ...MACHINE, redisUrl: `redis://127.0.0.1:${port}` }),
      3_000,
    );
    const message = formatInfrastructureFailure(results);

    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    expect(message).toContain(`Redis at 127.0.0.1:${port}`);
    expect(message).toContain('docker compose up -d redis\n');
    expect(message).not.toContain('PostgreSQL');
    expect(message).not.toContain('rabbitmq-server');
  });

  it('When a URL carries a password, then the message never prints it', async () => {
    const port = await freePort();
    const results = await checkInfrastructure(
      infrastructureTargets({
        databaseAdminUrl: `postgresql://admin:pg-s3cret@127.0.0.1:${port}/postgres`,
        redisUrl: `redis://:redis-s3cret@127.0.0.1:${port}`,
        amqpUrl: `amqp://guest:amqp-s3cret@127.0.0.1:${port}`,
      }),
      2_000,
    );

    const message = formatInfrastructureFailure(results);

    expect(message).not.toMatch(/s3cret/);
    expect(message).toContain(`postgresql://admin:***@127.0.0.1:${port}/postgres`);
  });

  it('When a port accepts TCP but never answers, then every check fails within its timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      const results = await checkInfrastructure(
        infrastructureTargets({
          databaseAdminUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
          redisUrl: `redis://127.0.0.1:${port}`,
          amqpUrl: `amqp://guest:guest@127.0.0.1:${port}`,
        }),
        1_000,
      );

      expect(results.map((result) => result.ok)).toEqual([false, false, false]);
      expect(Date.now() - started).toBeLessThan(4_000);
      for (const result of results) expect(result.error).toMatch(/: no answer within 1000 ms$/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
