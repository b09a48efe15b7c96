import { enqueueEvent } from '@te/events';
import type {
  OpenSessionInput,
  RevocationEvents,
  RevocationReason,
  RotationOutcome,
  SessionStore,
} from '../domain/session.js';
import type { UserDb } from './prisma-client.js';

type Tx = Parameters<Parameters<UserDb['$transaction']>[0]>[0];

/** Sessions and their refresh tokens (one family per session). Revocations publish through the outbox. */
export class SessionRepository implements SessionStore {
  constructor(
    private readonly db: UserDb,
    /** Called after a commit that wrote outbox events, so the relay publishes them at once. */
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {}

  async open(input: OpenSessionInput): Promise<{ id: string }> {
    return this.db.session.create({
      data: {
        userId: input.userId,
        authMethod: input.authMethod,
        expiresAt: input.expiresAt,
        ip: input.ip ?? null,
        userAgent: input.userAgent ?? null,
        refreshTokens: {
          create: { tokenHash: input.refreshToken.hash, expiresAt: input.refreshToken.expiresAt },
        },
      },
      select: { id: true },
    });
  }

  async rotate(input: {
    tokenHash: string;
    nextHash: string;
    nextExpiresAt: (sessionExpiresAt: Date) => Date;
    now: Date;
    events: RevocationEvents;
  }): Promise<RotationOutcome> {
    const { tokenHash, now } = input;
    const outcome = await this.db.$transaction(async (tx): Promise<RotationOutcome> => {
      // Single use, enforced by one conditional UPDATE: a concurrent refresh with the same token
      // waits on the row lock, then finds used_at set and matches nothing (RFC 9700 §4.14.2).
      const spent = await tx.$queryRaw<{ session_id: string; user_id: string; expires_at: Date }[]>`
        UPDATE refresh_tokens AS rt SET used_at = ${now}
        FROM sessions AS s
        WHERE rt.token_hash = ${tokenHash} AND rt.used_at IS NULL AND rt.expires_at > ${now}
          AND s.id = rt.session_id AND s.revoked_at IS NULL AND s.expires_at > ${now}
        RETURNING rt.session_id::text AS session_id, s.user_id::text AS user_id, s.expires_at`;
      const current = spent[0];
      if (current) {
        const expiresAt = input.nextExpiresAt(new Date(current.expires_at));
        await tx.refreshToken.create({
          data: { sessionId: current.session_id, tokenHash: input.nextHash, expiresAt },
        });
        await tx.session.update({ where: { id: current.session_id }, data: { lastUsedAt: now } });
        return {
          outcome: 'rotated',
          sessionId: current.session_id,
          userId: current.user_id,
          refreshTokenExpiresAt: expiresAt,
        };
      }
      const token = await tx.refreshToken.findUnique({
        where: { tokenHash },
        select: { usedAt: true, session: { select: { id: true, userId: true } } },
      });
      if (!token || token.usedAt === null) return { outcome: 'invalid' };
      // A spent token came back: whoever holds the family is not alone. End the whole session.
      const { id: sessionId, userId } = token.session;
      const revoked = await this.revokeIn(tx, {
        userId,
        sessionId,
        reason: 'refresh_token_reused',
        now,
        events: input.events,
      });
      return { outcome: 'reused', sessionId, userId, revoked: revoked.length > 0 };
    });
    if (outcome.outcome === 'reused' && outcome.revoked) this.onEventsCommitted();
    return outcome;
  }

  async revoke(input: {
    userId: string;
    sessionId: string;
    reason: RevocationReason;
    events: RevocationEvents;
  }): Promise<'revoked' | 'already_ended' | 'not_found'> {
    const now = new Date();
    const result = await this.db.$transaction(async (tx) => {
      const session = await tx.session.findFirst({
        where: { id: input.sessionId, userId: input.userId },
        select: { id: true },
      });
      if (!session) return 'not_found' as const;
      const revoked = await this.revokeIn(tx, {
        userId: input.userId,
        sessionId: session.id,
        reason: input.reason,
        now,
        events: input.events,
      });
      return revoked.length ? ('revoked' as const) : ('already_ended' as const);
    });
    if (result === 'revoked') this.onEventsCommitted();
    return result;
  }

  async revokeAll(input: {
    userId: string;
    reason: RevocationReason;
    except?: string;
    events: RevocationEvents;
  }): Promise<string[]> {
    const now = new Date();
    const ids = await this.db.$transaction((tx) =>
      this.revokeIn(tx, {
        userId: input.userId,
        except: input.except,
        reason: input.reason,
        now,
        events: input.events,
      }),
    );
    if (ids.length) this.onEventsCommitted();
    return ids;
  }

  async purgeExpired(now: Date): Promise<{ sessions: number; refreshTokens: number }> {
    // Spent tokens stay until they expire: until then, presenting one again is detected as reuse.
    const refreshTokens = await this.db.refreshToken.deleteMany({ where: { expiresAt: { lte: now } } });
    const sessions = await this.db.session.deleteMany({ where: { expiresAt: { lte: now } } });
    return { sessions: sessions.count, refreshTokens: refreshTokens.count };
  }

  /**
   * Revokes the user's active sessions (one, or all but `except`) and enqueues the revocation event,
   * inside `tx`. One UPDATE … RETURNING: the ids are exactly the sessions this call ended.
   */
  private async revokeIn(
    tx: Tx,
    input: {
      userId: string;
      sessionId?: string;
      except?: string;
      reason: RevocationReason;
      now: Date;
      events: RevocationEvents;
    },
  ): Promise<string[]> {
    const { userId, now, reason } = input;
    const rows = await tx.$queryRaw<{ id: string }[]>`
      UPDATE sessions SET revoked_at = ${now}, revoked_reason = ${reason}
      WHERE user_id = ${userId}::uuid AND revoked_at IS NULL AND expires_at > ${now}
        AND (${input.sessionId ?? null}::uuid IS NULL OR id = ${input.sessionId ?? null}::uuid)
        AND (${input.except ?? null}::uuid IS NULL OR id <> ${input.except ?? null}::uuid)
      RETURNING id::text AS id`;
    const ids = rows.map((row) => row.id);
    for (const event of input.events({ userId, sessionIds: ids, reason })) await enqueueEvent(tx, event);
    return ids;
  }
}
