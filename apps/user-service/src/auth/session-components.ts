import type { ServiceHost } from '@te/service-host';
import type { UserServiceConfig } from '../config.js';
import { SessionRepository } from '../db/session.repository.js';
import { SigningKeyRepository } from '../db/signing-key.repository.js';
import type { UserDb } from '../db/prisma-client.js';
import { JwtAccessTokenIssuer } from './access-token.issuer.js';
import { KeyEncryptionKey } from './key-encryption.js';
import { SigningKeyRing } from './key-ring.js';
import { RedisLoginThrottle } from './redis-login-throttle.js';
import { SessionService } from './session.service.js';

const HOUR_MS = 3600_000;

/**
 * Access tokens, sessions and sign-in throttling, wired from the config: the signing key ring (with
 * its readiness check and rotation job), the token issuer, the session service (SessionIssuer) and the
 * login throttle, plus the purge of what has expired. Part of the composition root (app.ts).
 */
export function createSessionComponents(
  host: ServiceHost,
  db: UserDb,
  config: UserServiceConfig,
  options: { clock?: () => Date } = {},
) {
  const encryption = KeyEncryptionKey.fromConfig(config.SIGNING_KEY_ENCRYPTION_KEY);
  if (encryption.isDevelopmentKey) {
    host.logger.warn(
      'SIGNING_KEY_ENCRYPTION_KEY is not set: signing keys are encrypted with the public development key (never do this in production)',
    );
  }
  const keyRing = new SigningKeyRing({
    store: new SigningKeyRepository(db),
    encryption,
    logger: host.logger,
    rotationDays: config.JWT_KEY_ROTATION_DAYS,
    publishAheadSeconds: config.JWT_KEY_PUBLISH_AHEAD_SECONDS,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    reloadIntervalMs: config.JWT_KEY_RING_CHECK_SECONDS * 1000,
    clock: options.clock,
  });
  // Ready once a key can sign (the first replica of a fresh database creates it).
  host.health.addReadinessCheck('signing-keys', () => keyRing.ensureLoaded());
  host.scheduler.every('signing-key-rotation', config.JWT_KEY_RING_CHECK_SECONDS * 1000, () =>
    keyRing.rotate(),
  );

  const tokens = new JwtAccessTokenIssuer(keyRing, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  const sessions = new SessionService({
    store: new SessionRepository(db, () => host.relay.notify()),
    tokens,
    source: config.SERVICE_NAME,
    settings: {
      refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
      sessionMaxAgeDays: config.SESSION_MAX_AGE_DAYS,
    },
    clock: options.clock,
  });
  const throttle = new RedisLoginThrottle(host.redis, {
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
  });

  host.scheduler.every('sessions-purge', HOUR_MS, async () => {
    const purged = await sessions.purgeExpired();
    const keys = await keyRing.purgeExpired();
    host.logger.info('expired sessions and signing keys purged', {
      sessions: purged.sessions,
      refresh_tokens: purged.refreshTokens,
      signing_keys: keys,
    });
  });
  return { keyRing, tokens, sessions, throttle };
}
