import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { CLIENT_OPTIONS } from './keepalive.js';

export interface GrpcHealthCheckOptions {
  /** The service to ask about; "" (default) is the server as a whole. */
  service?: string;
  /** Per-check deadline (default 1000 ms): a readiness probe must answer fast. */
  timeoutMs?: number;
}

export type GrpcHealthCheck = (() => Promise<void>) & { close(): void };

type CheckMethod = (
  request: { service: string },
  options: { deadline: number },
  callback: (error: Error | null, response?: { status: string }) => void,
) => void;

const HealthClient = makeGenericClientConstructor(
  healthService as ServiceDefinition,
  'grpc.health.v1.Health',
);

/**
 * A readiness check (for Health.addReadinessCheck) that asks a remote server's grpc.health.v1 Check
 * and fails unless it answers SERVING. One channel is reused across checks; close() releases it.
 */
export function grpcHealthCheck(address: string, options: GrpcHealthCheckOptions = {}): GrpcHealthCheck {
  const { service = '', timeoutMs = 1_000 } = options;
  let client: Client | undefined;
  const check = () =>
    new Promise<void>((resolve, reject) => {
      client ??= new HealthClient(address, credentials.createInsecure(), { ...CLIENT_OPTIONS });
      const call = (client as unknown as { Check: CheckMethod }).Check;
      call.call(client, { service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) return reject(new Error(`gRPC health check of ${address} failed: ${error.message}`));
        if (response?.status !== 'SERVING') {
          return reject(
            new Error(`${address} ${service ? `(${service}) ` : ''}is ${response?.status ?? 'UNKNOWN'}`),
          );
        }
        resolve();
      });
    });
  return Object.assign(check, {
    close() {
      client?.close();
      client = undefined;
    },
  });
}
