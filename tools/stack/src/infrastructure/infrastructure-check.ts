import { maskSecrets, maskUrl } from '@te/prisma-migrate';
import { probePostgres, probeRabbitMq, probeRedis, type Probe } from './probes.js';

export type InfrastructureName = 'PostgreSQL' | 'Redis' | 'RabbitMQ';

export interface InfrastructureTarget {
  name: InfrastructureName;
  /** The environment variable the URL came from (for the error message). */
  variable: string;
  url: string;
  probe: Probe;
  /** The Docker Compose service that provides it (docker-compose.yml). */
  composeService: string;
  /** How to start it on a machine without Docker (docs: /work/shared/TOOLCHAIN.md, .ci/run). */
  localStart: string;
}

export interface InfrastructureResult {
  target: InfrastructureTarget;
  ok: boolean;
  durationMs: number;
  error?: string;
}

export function infrastructureTargets(urls: {
  databaseAdminUrl: string;
  redisUrl: string;
  amqpUrl: string;
}): InfrastructureTarget[] {
  return [
    {
      name: 'PostgreSQL',
      variable: 'DATABASE_ADMIN_URL',
      url: urls.databaseAdminUrl,
      probe: probePostgres,
      composeService: 'postgres',
      localStart: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    },
    {
      name: 'Redis',
      variable: 'REDIS_URL',
      url: urls.redisUrl,
      probe: probeRedis,
      composeService: 'redis',
      localStart:
        'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    },
    {
      name: 'RabbitMQ',
      variable: 'AMQP_URL',
      url: urls.amqpUrl,
      probe: probeRabbitMq,
      composeService: 'rabbitmq',
      localStart: 'rabbitmq-server -detached',
    },
  ];
}

/** Probes every target at once; never throws (each failure is in its result). */
export async function checkInfrastructure(
  targets: InfrastructureTarget[],
  timeoutMs: number,
): Promise<InfrastructureResult[]> {
  return Promise.all(
    targets.map(async (target) => {
      const started = Date.now();
      try {
        await target.probe(target.url, timeoutMs);
        return { target, ok: true, durationMs: Date.now() - started };
      } catch (error) {
        return { target, ok: false, durationMs: Date.now() - started, error: describeError(error) };
      }
    }),
  );
}

/** host:port of a URL, with the scheme's default port; never the credentials. */
export function addressOf(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || DEFAULT_PORTS[parsed.protocol] || '';
    return `${parsed.hostname}${port ? `:${port}` : ''}`;
  } catch {
    return '[unparseable url]';
  }
}

const DEFAULT_PORTS: Record<string, string> = {
  'postgresql:': '5432',
  'postgres:': '5432',
  'redis:': '6379',
  'rediss:': '6379',
  'amqp:': '5672',
  'amqps:': '5671',
};

/** The message printed when something is missing: what, where, and how to start it. */
export function formatInfrastructureFailure(results: InfrastructureResult[]): string {
  const missing = results.filter((result) => !result.ok);
  if (missing.length === 0) return '';
  const lines = ['Infrastructure is not reachable:'];
  for (const { target, error } of missing) {
    lines.push(
      `  - ${target.name} at ${addressOf(target.url)} (${target.variable}=${maskUrl(target.url)}): ${error}`,
    );
  }
  lines.push(
    '',
    'Start it with Docker:',
    `  docker compose up -d ${missing.map((m) => m.target.composeService).join(' ')}`,
    '',
    'or, on a machine without Docker (as root, as CI does):',
    ...missing.map((m) => `  ${m.target.localStart}`),
    '',
    'Then run `npm start` again. Another address? Set the variable(s) above.',
  );
  return lines.join('\n');
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join('; ');
  }
  const text = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as { code?: unknown })?.code;
  const message = typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
  // Driver messages may echo the URL they were given.
  return maskSecrets(message);
}
