import { connect as connectAmqp } from 'amqplib';
import Redis from 'ioredis';
import { Client } from 'pg';

/** Resolves when the server answers a real request within `timeoutMs`; rejects with the reason otherwise. */
export type Probe = (url: string, timeoutMs: number) => Promise<void>;

/** A real connection and `SELECT 1`: a port that merely accepts TCP is not PostgreSQL. */
export const probePostgres: Probe = async (url, timeoutMs) => {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs + 1_000,
    query_timeout: timeoutMs,
  });
  // A server that drops the connection later must not crash the runner with an unhandled 'error'.
  client.on('error', () => undefined);
  try {
    await withTimeout(
      client.connect().then(() => client.query('SELECT 1')),
      timeoutMs,
      'PostgreSQL SELECT 1',
    );
  } catch (error) {
    // Not awaited: ending a connection that never completed its handshake waits for pg's own timeout.
    client.end().catch(() => undefined);
    throw error;
  }
  await client.end().catch(() => undefined);
};

/** PING → PONG (ioredis also sends AUTH/SELECT when the URL carries them). */
export const probeRedis: Probe = async (url, timeoutMs) => {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    // connectTimeout covers TCP only; a port that accepts and stays silent needs an overall bound.
    const reply = await withTimeout(
      redis.connect().then(() => redis.ping()),
      timeoutMs,
      'Redis PING',
    );
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(reply)}`);
  } finally {
    redis.disconnect();
  }
};

/** A full AMQP handshake (protocol header, authentication, vhost open), then a clean close. */
export const probeRabbitMq: Probe = async (url, timeoutMs) => {
  const connecting = connectAmqp(url, { timeout: timeoutMs });
  let connection: Awaited<typeof connecting>;
  try {
    // amqplib's socket timeout covers the TCP connect; the handshake after it needs its own bound.
    connection = await withTimeout(connecting, timeoutMs, 'AMQP handshake');
  } catch (error) {
    // A connection that completes after we gave up is closed, not leaked.
    connecting.then((late) => late.close()).catch(() => undefined);
    throw error;
  }
  connection.on('error', () => undefined);
  await connection.close().catch(() => undefined);
};

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
