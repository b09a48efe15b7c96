import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** RED metrics (rate, errors, duration) for each kind of traffic, on one registry per service instance. */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  grpcServerDuration: Histogram<'service' | 'method' | 'code'>;
  grpcClientDuration: Histogram<'service' | 'method' | 'code'>;
  amqpPublished: Counter<'type' | 'outcome'>;
  amqpConsumeDuration: Histogram<'queue' | 'type' | 'outcome'>;
  jobDuration: Histogram<'job' | 'outcome'>;
}

export interface MetricsOptions {
  service: string;
  /** Process metrics (CPU, memory, event-loop lag, GC); on by default. */
  defaultMetrics?: boolean;
}

// Latency buckets in seconds, from 1 ms to 10 s.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions): Metrics {
  // Never the global registry: several service instances may live in one process (tests).
  // No default `service` label: Prometheus adds job/instance at scrape time, and the gRPC histograms
  // use `service` for the gRPC service name.
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests handled, by route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    grpcServerDuration: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Duration of gRPC calls handled, by method and status code',
      labelNames: ['service', 'method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    grpcClientDuration: new Histogram({
      name: 'grpc_client_handling_seconds',
      help: 'Duration of outgoing gRPC calls, by method and status code',
      labelNames: ['service', 'method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    amqpPublished: new Counter({
      name: 'amqp_messages_published_total',
      help: 'Events published to RabbitMQ, by type and outcome (confirmed, nacked, unroutable, failed)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    amqpConsumeDuration: new Histogram({
      name: 'amqp_message_processing_seconds',
      help: 'Duration of event handling, by queue, type and outcome (acked, retried, dead_lettered, duplicate)',
      labelNames: ['queue', 'type', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'scheduled_job_duration_seconds',
      help: 'Duration of scheduled maintenance jobs run by this replica, by job and outcome',
      labelNames: ['job', 'outcome'],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
  };
}
