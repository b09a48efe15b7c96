import { loadProtos } from '@te/grpc';
import type { Health, Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import { RedisTokenBudget } from './budget/index.js';
import { RedisResponseCache } from './cache/index.js';
import type { AiGatewayServiceConfig } from './config.js';
import { InferenceRepository } from './db/inference.repository.js';
import { createAiGatewayDb } from './db/prisma-client.js';
import { SEED_ALIASES, seedRegistry } from './db/registry-seed.js';
import { RegistryRepository } from './db/registry.repository.js';
import { IDEMPOTENCY_WINDOW_MS, type InferenceDeps } from './domain/prepare-inference.js';
import { RegistryCache } from './domain/registry-cache.js';
import { registryChangedSubscription } from './events/registry-changed.consumer.js';
import { userDeletedSubscription } from './events/user-deleted.consumer.js';
import { catalogHandlers } from './grpc/catalog.handlers.js';
import { inferenceHandlers } from './grpc/inference.handlers.js';
import { QueuedInferenceRepository } from './db/queued-inference.repository.js';
import { failStaleInferences } from './domain/fail-stale-inferences.use-case.js';
import { INFERENCE_WORK_QUEUE, inferenceJobSubscription } from './jobs/inference-job.consumer.js';
import { modelAdminHandlers } from './grpc/model-admin.handlers.js';
import { createProviders, type ModelProvider } from './providers/index.js';
import type { ProviderDependencies } from './providers/http-provider.js';
import { ResilientCaller } from './resilience/index.js';
import { resilienceSettings } from './resilience/resilience-config.js';

/** Name of the job that fails queued inferences left unsettled (its scheduler lock is per service). */
export const STALE_INFERENCES_JOB = 'stale-queued-inferences';

/**
 * `service`: the gRPC API, maintenance jobs and (with INFERENCE_WORKER_ENABLED) the queued-inference
 * consumer; `worker`: that consumer only (src/worker.ts), its gRPC port serving health only.
 */
export type AiGatewayServiceRole = 'service' | 'worker';

export interface AiGatewayServiceApp {
  readonly host: ServiceHost;
  readonly health: Health;
  /** The model registry's repository (every write enqueues ai.registry.changed; ModelAdmin uses it). */
  readonly registry: RegistryRepository;
  /** This replica's cached registry. */
  readonly registryCache: RegistryCache;
  readonly providers: ReadonlyMap<string, ModelProvider>;
  start(): Promise<{ grpcPort: number; opsPort: number }>;
  stop(): Promise<void>;
}

/**
 * Composition root: the service defaults plus the providers, the model registry (seeded, cached per
 * replica) and te.ai.v1's InferenceService and ModelCatalog. Nothing runs until start().
 */
export function createAiGatewayServiceApp(
  config: AiGatewayServiceConfig,
  options: {
    logger?: Logger;
    /** The alias draw (tests script it). */ random?: () => number;
    clock?: () => Date;
    providerDependencies?: ProviderDependencies;
    role?: AiGatewayServiceRole;
  } = {},
): AiGatewayServiceApp {
  const role = options.role ?? 'service';
  const database = createAiGatewayDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({ config, database, logger: options.logger });
  const protos = loadProtos().te.ai.v1;
  const clock = options.clock ?? (() => new Date());

  // Providers (decision 0013), one adapter per AI_PROVIDERS entry.
  const providers = createProviders(config.providers, {
    logger: host.logger,
    ...options.providerDependencies,
  });

  // Model registry (decision 0014): PostgreSQL, read through this replica's cache.
  const registryCache = new RegistryCache(() => registry.snapshot(), {
    refreshMs: config.REGISTRY_REFRESH_MS,
    logger: host.logger,
  });
  const registry = new RegistryRepository(
    database.db,
    () => {
      host.relay.notify();
      void registryCache.refresh().catch(() => undefined);
    },
    config.SERVICE_NAME,
  );
  // Every process (API replica or worker) hears every change on its own broadcast queue.
  host.consume(registryChangedSubscription(registryCache));
  host.health.addReadinessCheck('model-registry', async () => {
    if (!registryCache.loaded) throw new Error('the model registry is not loaded yet');
  });

  // te.ai.v1.InferenceService and ModelCatalog.
  const inferences = new InferenceRepository(database.db, () => host.relay.notify());
  // Retries, fallback along the chain, circuit breakers and concurrency limits (decision 0015).
  const resilience = new ResilientCaller({
    settings: resilienceSettings(config),
    maxConcurrency: new Map(config.providers.map((provider) => [provider.id, provider.maxConcurrency])),
    logger: host.logger,
    registry: host.metrics.registry,
  });
  // The opt-in response cache and per-user token budgets in Redis (decision 0020): an outage skips
  // the cache and leaves budgets unenforced (fail-open), logged once.
  const cache = new RedisResponseCache(host.redis, host.logger, {
    ttlSeconds: config.AI_CACHE_TTL_SECONDS,
    maxEntryBytes: config.AI_CACHE_MAX_ENTRY_BYTES,
    registry: host.metrics.registry,
  });
  const budget = new RedisTokenBudget(
    host.redis,
    host.logger,
    {
      tokensPerDay: config.AI_TOKEN_BUDGET_PER_DAY,
      reservationTtlSeconds: config.AI_TOKEN_BUDGET_RESERVATION_TTL_SECONDS,
      registry: host.metrics.registry,
    },
    clock,
  );
  const deps: InferenceDeps = {
    registry: registryCache,
    providers,
    resilience,
    store: inferences,
    random: options.random ?? Math.random,
    clock,
    source: config.SERVICE_NAME,
    logger: host.logger,
    cache,
    budget,
  };
  // Queued inference: SubmitInference stores the request and enqueues its job (src/jobs).
  const queued = new QueuedInferenceRepository(database.db, () => host.relay.notify());
  const queuedDeps = { inference: deps, queued };
  if (role === 'service') {
    host.grpc.addService(protos.InferenceService.service, inferenceHandlers(deps, queued));
    host.grpc.addService(
      protos.ModelCatalog.service,
      catalogHandlers({ registry: registryCache, callable: (id) => providers.has(id), clock }),
    );

    // te.ai.v1.ModelAdmin: the registry's administration (admins only), through the repository.
    host.grpc.addService(
      protos.ModelAdmin.service,
      modelAdminHandlers({
        store: registry,
        // The second load starts after the commit even when the first joined one begun before it.
        reload: () => registryCache.refresh(),
        providerConfigured: (id) => providers.has(id),
        protectedAliases: SEED_ALIASES,
        clock,
      }),
    );

    // Account deletion: the user's stored answers, queued requests, cached answers and budgets.
    host.consume(userDeletedSubscription({ db: database.db, cache, budget, logger: host.logger }));

    // Maintenance: stored answers outlive the idempotency window by an hour at most.
    host.scheduler.every('stored-inferences-purge', 3600_000, async () => {
      const purged = await inferences.purgeOlderThan(new Date(clock().getTime() - IDEMPOTENCY_WINDOW_MS));
      const purgedQueued = await queued.purgeOlderThan(new Date(clock().getTime() - IDEMPOTENCY_WINDOW_MS));
      host.logger.info('stored inferences purged', { rows: purged, queued_rows: purgedQueued });
    });
    host.scheduler.every(STALE_INFERENCES_JOB, config.QUEUED_INFERENCE_SWEEP_INTERVAL_MS, async () => {
      await failStaleInferences({
        ...queuedDeps,
        timeoutMs: config.QUEUED_INFERENCE_TIMEOUT_MS,
        marginMs: config.QUEUED_INFERENCE_SWEEP_MARGIN_MS,
        logger: host.logger,
      });
    });
  }

  // The work queue exists whatever this process consumes, so jobs wait for a worker (in this process
  // or in the worker deployment) instead of being unroutable while none runs.
  host.declareQueue(INFERENCE_WORK_QUEUE);
  if (role === 'worker' || config.INFERENCE_WORKER_ENABLED) {
    host.consume(
      inferenceJobSubscription({
        ...queuedDeps,
        timeoutMs: config.QUEUED_INFERENCE_TIMEOUT_MS,
        prefetch: config.INFERENCE_WORKER_CONCURRENCY,
        logger: host.logger,
      }),
    );
  }

  return {
    host,
    health: host.health,
    registry,
    registryCache,
    providers,
    async start() {
      const created = await seedRegistry(database.db, config.SERVICE_NAME);
      if (created.length) host.logger.info('model registry seeded', { created });
      await registryCache.refresh();
      registryCache.start();
      return host.start();
    },
    async stop() {
      registryCache.stop();
      await host.stop();
    },
  };
}
