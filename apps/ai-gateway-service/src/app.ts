import { loadProtos } from '@te/grpc';
import type { Health, Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { AiGatewayServiceConfig } from './config.js';
import { InferenceRepository } from './db/inference.repository.js';
import { createAiGatewayDb } from './db/prisma-client.js';
import { seedRegistry } from './db/registry-seed.js';
import { RegistryRepository } from './db/registry.repository.js';
import { IDEMPOTENCY_WINDOW_MS, type InferenceDeps } from './domain/prepare-inference.js';
import { RegistryCache } from './domain/registry-cache.js';
import { registryChangedSubscription } from './events/registry-changed.consumer.js';
import { catalogHandlers } from './grpc/catalog.handlers.js';
import { inferenceHandlers } from './grpc/inference.handlers.js';
import { createProviders, type ModelProvider } from './providers/index.js';
import type { ProviderDependencies } from './providers/http-provider.js';

export interface AiGatewayServiceApp {
  readonly host: ServiceHost;
  readonly health: Health;
  /** The model registry's repository (writes enqueue ai.registry.changed; the admin API comes later). */
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
  } = {},
): AiGatewayServiceApp {
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
  host.consume(registryChangedSubscription(registryCache));
  host.health.addReadinessCheck('model-registry', async () => {
    if (!registryCache.loaded) throw new Error('the model registry is not loaded yet');
  });

  // te.ai.v1.InferenceService and ModelCatalog.
  const inferences = new InferenceRepository(database.db, () => host.relay.notify());
  const deps: InferenceDeps = {
    registry: registryCache,
    providers,
    store: inferences,
    random: options.random ?? Math.random,
    clock,
    source: config.SERVICE_NAME,
    logger: host.logger,
  };
  host.grpc.addService(protos.InferenceService.service, inferenceHandlers(deps));
  host.grpc.addService(
    protos.ModelCatalog.service,
    catalogHandlers({ registry: registryCache, callable: (id) => providers.has(id), clock }),
  );

  // Maintenance: stored answers outlive the idempotency window by an hour at most.
  host.scheduler.every('stored-inferences-purge', 3600_000, async () => {
    const purged = await inferences.purgeOlderThan(new Date(clock().getTime() - IDEMPOTENCY_WINDOW_MS));
    host.logger.info('stored inferences purged', { rows: purged });
  });

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
