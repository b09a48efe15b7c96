import { loadProtos } from '@te/grpc';
import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import { JwtAccessTokenIssuer } from './auth/access-token.issuer.js';
import { Argon2PasswordHasher } from './auth/argon2.password-hasher.js';
import { generateSigningKey, loadSigningKey } from './auth/signing-key.js';
import type { UserServiceConfig } from './config.js';
import { createUserDb } from './db/prisma-client.js';
import { UserRepository } from './db/user.repository.js';
import { userHandlers } from './grpc/user.handlers.js';

/** Composition root: the service defaults plus what is user-service's own. Nothing runs until start(). */
export function createUserServiceApp(
  config: UserServiceConfig,
  options: { logger?: Logger } = {},
): ServiceHost {
  const database = createUserDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({ config, database, logger: options.logger });

  const signingKey = config.JWT_SIGNING_KEY ? loadSigningKey(config.JWT_SIGNING_KEY) : generateSigningKey();
  if (!config.JWT_SIGNING_KEY)
    host.logger.warn('JWT_SIGNING_KEY is not set: tokens are signed with a key of this process only');

  host.grpc.addService(
    loadProtos().te.user.v1.UserService.service,
    userHandlers({
      users: new UserRepository(database.db, () => host.relay.notify()),
      hasher: new Argon2PasswordHasher({
        memoryKib: config.ARGON2_MEMORY_KIB,
        timeCost: config.ARGON2_TIME_COST,
        parallelism: config.ARGON2_PARALLELISM,
      }),
      tokens: new JwtAccessTokenIssuer(signingKey, {
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      }),
      publicKeys: () => [signingKey.publicJwk],
      source: config.SERVICE_NAME,
    }),
  );
  return host;
}
