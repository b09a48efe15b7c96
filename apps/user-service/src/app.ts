import { loadProtos } from '@te/grpc';
import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import { Argon2PasswordHasher } from './auth/argon2.password-hasher.js';
import { createSessionComponents } from './auth/session-components.js';
import type { UserServiceConfig } from './config.js';
import { AccountRepository } from './db/account.repository.js';
import { ApiKeyRepository } from './db/api-key.repository.js';
import { OidcIdentityRepository } from './db/oidc-identity.repository.js';
import { createUserDb } from './db/prisma-client.js';
import { SecurityEventRepository } from './db/security-event.repository.js';
import { UsageRepository } from './db/usage.repository.js';
import { UserRepository } from './db/user.repository.js';
import { inferenceCompletedSubscription } from './events/inference-completed.consumer.js';
import { apiKeyHandlers } from './grpc/api-key.handlers.js';
import { oidcHandlers } from './grpc/oidc.handlers.js';
import { profileHandlers } from './grpc/profile.handlers.js';
import { sessionHandlers } from './grpc/session.handlers.js';
import { usageHandlers } from './grpc/usage.handlers.js';
import { userHandlers } from './grpc/user.handlers.js';
import { RedisOidcAttemptStore } from './oidc/oidc-attempt.store.js';
import { OidcDiscoveryCache } from './oidc/oidc-discovery.cache.js';
import { OpenIdRelyingParty } from './oidc/openid.relying-party.js';

const DAY_MS = 24 * 3600_000;

/** Composition root: the service defaults plus what is user-service's own. Nothing runs until start(). */
export function createUserServiceApp(
  config: UserServiceConfig,
  options: {
    logger?: Logger;
    /** Tests move the key ring through rotation periods with it. */ clock?: () => Date;
  } = {},
): ServiceHost {
  const database = createUserDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({ config, database, logger: options.logger });
  const protos = loadProtos().te.user.v1;

  // Building blocks shared by the features below.
  const users = new UserRepository(database.db, () => host.relay.notify());
  const audit = new SecurityEventRepository(database.db, host.logger);
  const hasher = new Argon2PasswordHasher({
    memoryKib: config.ARGON2_MEMORY_KIB,
    timeCost: config.ARGON2_TIME_COST,
    parallelism: config.ARGON2_PARALLELISM,
  });

  // Access tokens (key ring), sessions (refresh-token families) and sign-in throttling.
  const { keyRing, tokens, sessions, throttle } = createSessionComponents(host, database.db, config, {
    clock: options.clock,
  });

  // te.user.v1.UserService: sign-in and credentials, plus the caller's own profile.
  host.grpc.addService(protos.UserService.service, {
    ...userHandlers({
      users,
      hasher,
      sessions,
      throttle,
      audit,
      publicKeys: () => keyRing.publicKeys(),
      adminEmails: config.ADMIN_EMAILS,
      source: config.SERVICE_NAME,
    }),
    ...profileHandlers({
      users,
      accounts: new AccountRepository(database.db, () => host.relay.notify()),
      source: config.SERVICE_NAME,
      logger: host.logger,
    }),
  });

  // te.user.v1.SessionService: refresh-token rotation with reuse detection, logout.
  host.grpc.addService(protos.SessionService.service, sessionHandlers({ sessions, users, tokens, audit }));

  // te.user.v1.ApiKeyService: personal API keys, and their resolution for the gateway.
  host.grpc.addService(
    protos.ApiKeyService.service,
    apiKeyHandlers({
      apiKeys: new ApiKeyRepository(database.db, host.logger),
      users,
      audit,
      cacheTtlSeconds: config.API_KEY_CACHE_TTL_SECONDS,
    }),
  );

  // Usage analytics: ai.inference.completed → daily aggregates; te.user.v1.UsageService reads them.
  host.consume(inferenceCompletedSubscription(database.db, host.logger));
  host.grpc.addService(
    protos.UsageService.service,
    usageHandlers({ usage: new UsageRepository(database.db) }),
  );

  // te.user.v1.OidcService: sign-in with OpenID Providers (attempts in Redis, discovery on first use).
  const oidcDiscovery = new OidcDiscoveryCache(config.oidcProviders, { logger: host.logger });
  host.grpc.addService(
    protos.OidcService.service,
    oidcHandlers({
      relyingParty: new OpenIdRelyingParty(
        oidcDiscovery,
        config.oidcProviders.map((provider) => provider.id),
        config.OIDC_REDIRECT_BASE_URL,
        host.logger,
      ),
      attempts: new RedisOidcAttemptStore(host.redis),
      identities: new OidcIdentityRepository(database.db, () => host.relay.notify()),
      users,
      sessions,
      audit,
      adminEmails: config.ADMIN_EMAILS,
      source: config.SERVICE_NAME,
    }),
  );

  // Maintenance: the audit log keeps AUDIT_RETENTION_DAYS.
  host.scheduler.every('security-events-purge', 3600_000, async () => {
    const purged = await audit.purgeOlderThan(new Date(Date.now() - config.AUDIT_RETENTION_DAYS * DAY_MS));
    host.logger.info('security events purged', { rows: purged });
  });
  return host;
}
