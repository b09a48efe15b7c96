import { loadProtos } from '@te/grpc';
import type { Logger } from '@te/platform';
import { ServiceHost } from '@te/service-host';
import type { ContextServiceConfig } from './config.js';
import { MessageRepository } from './db/message.repository.js';
import { createContextDb } from './db/prisma-client.js';
import { SessionRepository } from './db/session.repository.js';
import { SessionStateCache } from './db/session-state.cache.js';
import type { Session } from './domain/conversation.js';
import type { EraseUserObjects } from './domain/erase-user-data.use-case.js';
import { purgeIdleSessions } from './domain/purge-idle-sessions.use-case.js';
import { userDeletedSubscription } from './events/user-deleted.consumer.js';
import { contextHandlers } from './grpc/context.handlers.js';

/** Name of the retention job (its scheduler lock is `scheduler:context-service:<name>`). */
export const SESSION_RETENTION_JOB = 'session-retention';

export interface ContextServiceAppOptions {
  logger?: Logger;
  /**
   * Object storage erasure for lifecycle events. Until the attachments' storage is wired here these are
   * absent and only rows and cached state are erased; pass them once the storage driver exists.
   */
  eraseUserObjects?: EraseUserObjects;
  eraseSessionObjects?: (sessions: Session[]) => Promise<void>;
}

/** Composition root: the service defaults plus what is context-service's own. Nothing runs until start(). */
export function createContextServiceApp(
  config: ContextServiceConfig,
  options: ContextServiceAppOptions = {},
): ServiceHost {
  const database = createContextDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: config.SERVICE_NAME,
  });
  const host = new ServiceHost({ config, database, logger: options.logger });
  const publishNow = () => host.relay.notify();

  // Conversations in PostgreSQL; each session's working state cached in Redis.
  const sessions = new SessionRepository(database.db, publishNow);
  const messages = new MessageRepository(database.db, publishNow);
  const states = new SessionStateCache(host.redis, sessions, host.logger, {
    recentMessages: config.SESSION_STATE_RECENT_MESSAGES,
    ttlSeconds: config.SESSION_STATE_TTL_SECONDS,
  });

  // te.context.v1.ContextService: the caller's sessions and messages.
  host.grpc.addService(
    loadProtos().te.context.v1.ContextService.service,
    contextHandlers({ sessions, messages, states, source: config.SERVICE_NAME }),
  );

  // Lifecycle: account deletion erases the user's conversations; idle sessions expire.
  host.consume(
    userDeletedSubscription({
      db: database.db,
      states,
      logger: host.logger,
      eraseUserObjects: options.eraseUserObjects,
    }),
  );
  host.scheduler.every(SESSION_RETENTION_JOB, config.SESSION_RETENTION_CHECK_SECONDS * 1000, async () => {
    await purgeIdleSessions({
      sessions,
      states,
      retentionDays: config.SESSION_RETENTION_DAYS,
      source: config.SERVICE_NAME,
      logger: host.logger,
      eraseSessionObjects: options.eraseSessionObjects,
    });
  });
  return host;
}
