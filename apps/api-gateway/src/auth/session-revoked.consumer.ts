import type { SubscribeOptions } from '@te/events';
import type { Logger } from '@te/platform';
import type { SessionRevocations } from './session-revocations.js';

/** The gateways' one queue (shared by every replica: the revocation list is shared in Redis). */
export const SESSION_REVOCATIONS_QUEUE = 'api-gateway.session-revocations';

/** `session.revoked` as user-service publishes it (apps/user-service/src/domain/session.ts). */
interface SessionRevokedData {
  user_id?: unknown;
  session_ids?: unknown;
  reason?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every session user-service ends reaches the revocation list, including the ones no gateway request
 * asked for (a refresh token reused: user-service revokes the whole family while answering 401). The
 * routes that end sessions also mark them at once; this is the guarantee (outbox, at-least-once) that
 * nothing is missed. Marking is idempotent, so redeliveries are harmless.
 */
export function sessionRevokedSubscription(
  revocations: SessionRevocations,
  logger: Logger,
): SubscribeOptions<SessionRevokedData> {
  return {
    queue: SESSION_REVOCATIONS_QUEUE,
    bindings: ['session.revoked'],
    handler: async (event) => {
      const ids = Array.isArray(event.data.session_ids)
        ? event.data.session_ids.filter((id): id is string => typeof id === 'string' && UUID.test(id))
        : [];
      await revocations.revoke(ids);
      logger.info('sessions revoked', { sessions: ids.length, reason: String(event.data.reason ?? '') });
    },
  };
}
