import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { openTestPool, testDatabaseAdminUrl } from '@te/testing';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  rabbitmq: string;
}

/** The machine and the servers the numbers were taken on (/proc, and each server's own answer). */
export async function describeMachine(redisUrl: string, amqpUrl: string): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? Number.NaN);
  const [postgres, redis, rabbitmq] = await Promise.all([
    postgresVersion().catch(() => 'unknown'),
    redisVersion(redisUrl).catch(() => 'unknown'),
    rabbitmqVersion(amqpUrl).catch(() => 'unknown'),
  ]);
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: memKiB / 1024 / 1024,
    node: process.version,
    postgres,
    redis,
    rabbitmq,
  };
}

async function postgresVersion(): Promise<string> {
  const pool = openTestPool(testDatabaseAdminUrl(), 1);
  try {
    const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
    return rows[0].server_version;
  } finally {
    await pool.end();
  }
}

/** `INFO server` over a raw connection (RESP), read up to `redis_version`. */
function redisVersion(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return exchange(
    hostname,
    Number(port || 6379),
    Buffer.from('*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n'),
    (text) => /redis_version:([^\r\n]+)/.exec(text)?.[1],
  );
}

/** The AMQP 0-9-1 protocol header; the broker's Connection.Start lists `version` in its properties. */
function rabbitmqVersion(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return exchange(hostname, Number(port || 5672), Buffer.from([65, 77, 81, 80, 0, 0, 9, 1]), (text) => {
    const at = text.indexOf('\x07versionS');
    if (at < 0) return undefined;
    const start = at + '\x07versionS'.length + 4;
    const length = Buffer.from(text.slice(start - 4, start), 'latin1').readUInt32BE(0);
    return text.length >= start + length ? text.slice(start, start + length) : undefined;
  });
}

function exchange(
  host: string,
  port: number,
  request: Buffer,
  parse: (text: string) => string | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ host, port }, () => socket.write(request));
    socket.setTimeout(3_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const found = parse(text);
      if (found) {
        socket.destroy();
        resolve(found);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before the version was read')));
  });
}
