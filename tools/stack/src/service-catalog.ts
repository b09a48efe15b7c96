import { existsSync } from 'node:fs';
import path from 'node:path';
import { withDatabase } from '@te/prisma-migrate';
import type { StackConfig } from './stack-config.js';

/** One service as `npm start` runs it. Ports and databases follow docs/architecture.md. */
export interface StackService {
  name: string;
  /** Every backend starts together; the gateway starts once they are ready. Stopped in reverse. */
  tier: 'backend' | 'gateway';
  /** Run as `node <entry>` with the repository root as working directory. */
  entry: string;
  /** Added to the runner's own environment (and overriding it). */
  env: Record<string, string>;
  /** Polled until it answers 200. */
  readyUrl: string;
  /** Every port the service listens on; checked free before anything starts. */
  ports: number[];
  /** Present when the service has apps/<name>/prisma/schema.prisma. */
  database?: { name: string; url: string; schemaPath: string };
}

interface Definition {
  name: string;
  grpcPort: number;
  httpPort: number;
  database: string;
}

const BACKENDS: Definition[] = [
  { name: 'user-service', grpcPort: 50051, httpPort: 8081, database: 'te_user' },
  { name: 'context-service', grpcPort: 50052, httpPort: 8082, database: 'te_context' },
  { name: 'ai-gateway-service', grpcPort: 50053, httpPort: 8083, database: 'te_ai_gateway' },
  { name: 'integration-service', grpcPort: 50054, httpPort: 8084, database: 'te_integration' },
];

export const GATEWAY = { name: 'api-gateway', httpPort: 8080, opsPort: 9080 } as const;

/** The public API as a developer reaches it. */
export const GATEWAY_API_URL = `http://localhost:${GATEWAY.httpPort}/api/v1`;

export function stackServices(config: StackConfig): StackService[] {
  const shared = { NODE_ENV: config.nodeEnv, REDIS_URL: config.redisUrl, AMQP_URL: config.amqpUrl };
  const backends = BACKENDS.map((def): StackService => {
    const schemaPath = path.join(config.rootDir, 'apps', def.name, 'prisma', 'schema.prisma');
    const database = existsSync(schemaPath)
      ? { name: def.database, url: withDatabase(config.databaseAdminUrl, def.database), schemaPath }
      : undefined;
    return {
      name: def.name,
      tier: 'backend',
      entry: entryOf(config, def.name),
      env: {
        ...shared,
        SERVICE_NAME: def.name,
        GRPC_PORT: String(def.grpcPort),
        HTTP_PORT: String(def.httpPort),
        ...(database ? { DATABASE_URL: database.url } : {}),
      },
      readyUrl: `http://127.0.0.1:${def.httpPort}/readyz`,
      ports: [def.grpcPort, def.httpPort],
      database,
    };
  });
  const gateway: StackService = {
    name: GATEWAY.name,
    tier: 'gateway',
    entry: entryOf(config, GATEWAY.name),
    env: {
      ...shared,
      SERVICE_NAME: GATEWAY.name,
      HTTP_PORT: String(GATEWAY.httpPort),
      OPS_PORT: String(GATEWAY.opsPort),
      ...Object.fromEntries(BACKENDS.map((def) => [addressVariable(def.name), `127.0.0.1:${def.grpcPort}`])),
    },
    // The public port, so "ready" also means the API itself is listening.
    readyUrl: `http://127.0.0.1:${GATEWAY.httpPort}/readyz`,
    ports: [GATEWAY.httpPort, GATEWAY.opsPort],
  };
  return [...backends, gateway];
}

/** user-service → USER_SERVICE_ADDR, ai-gateway-service → AI_GATEWAY_SERVICE_ADDR. */
export function addressVariable(service: string): string {
  return `${service.replace(/-/g, '_').toUpperCase()}_ADDR`;
}

function entryOf(config: StackConfig, name: string): string {
  return path.join(config.rootDir, 'apps', name, 'dist', 'main.js');
}
