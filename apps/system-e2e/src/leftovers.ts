import { access } from 'node:fs/promises';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { testDatabaseAdminUrl, type TestAmqp } from '@te/testing';

export interface LeftoverQuery {
  databaseNames: string[];
  redisUrl?: string;
  redisPrefix?: string;
  amqp: TestAmqp;
  /** Unprefixed queue names, as given to `registerQueue`. */
  queues: string[];
  /** Directories the run created on this machine (context-service's object storage). */
  directories?: string[];
}

/**
 * What a run created and did not remove, one line each ("database te_user_t1a2b3c4_9f0e"): the proof
 * that teardown leaves the shared PostgreSQL, Redis, RabbitMQ and file system as they were.
 */
export async function findLeftovers(query: LeftoverQuery): Promise<string[]> {
  return [
    ...(await databasesLeft(query.databaseNames)),
    ...(query.redisPrefix ? await redisKeysLeft(query.redisUrl, query.redisPrefix) : []),
    ...(await brokerObjectsLeft(query.amqp, query.queues)),
    ...(await directoriesLeft(query.directories ?? [])),
  ];
}

async function directoriesLeft(directories: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const directory of directories) {
    const exists = await access(directory).then(
      () => true,
      () => false,
    );
    if (exists) left.push(`directory ${directory}`);
  }
  return left;
}

async function databasesLeft(names: string[]): Promise<string[]> {
  const admin = new pg.Client({ connectionString: testDatabaseAdminUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = ANY($1::text[])',
      [names],
    );
    return rows.map((row) => `database ${row.datname}`);
  } finally {
    await admin.end();
  }
}

async function redisKeysLeft(url: string | undefined, prefix: string): Promise<string[]> {
  const redis = new Redis(url ?? 'redis://127.0.0.1:6379');
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      found.push(...keys.map((key) => `redis key ${key}`));
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return found;
}

async function brokerObjectsLeft(amqp: TestAmqp, queues: string[]): Promise<string[]> {
  const connection = await connect(amqp.url, { timeout: 10_000 });
  const found: string[] = [];
  try {
    if (await brokerHas(connection, (channel) => channel.checkExchange(amqp.exchange))) {
      found.push(`exchange ${amqp.exchange}`);
    }
    for (const queue of queues.flatMap((q) => queueFamily(`${amqp.queuePrefix}${q}`))) {
      if (await brokerHas(connection, (channel) => channel.checkQueue(queue))) found.push(`queue ${queue}`);
    }
  } finally {
    await connection.close();
  }
  return found;
}

// A passive declare of a missing exchange or queue closes its channel with 404: one channel per check.
async function brokerHas(
  connection: ChannelModel,
  check: (channel: Channel) => Promise<unknown>,
): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await check(channel);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

/** A consumer's queue with its DLQ and retry queues (as many as @te/testing's cleanup removes). */
function queueFamily(main: string): string[] {
  return [main, `${main}.dlq`, ...Array.from({ length: 10 }, (_, i) => `${main}.retry.${i + 1}`)];
}
