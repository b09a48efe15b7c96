import { createEvent, type EventEnvelope } from '@te/events';
import type { SessionIssuer } from './ports.js';

/**
 * Sign-in sessions: one refresh-token family each (RFC 9700 §4.14.2). A session ends when it is
 * revoked, when its absolute lifetime (SESSION_MAX_AGE_DAYS) passes, or when its current refresh
 * token goes unused for REFRESH_TOKEN_TTL_DAYS (idle expiry).
 */
export type RevocationReason =
  'logout' | 'logout_all' | 'password_changed' | 'refresh_token_reused' | 'session_revoked';

export interface OpenSessionInput {
  userId: string;
  authMethod: string;
  expiresAt: Date;
  ip?: string;
  userAgent?: string;
  /** The first refresh token of the family, as its hash. */
  refreshToken: { hash: string; expiresAt: Date };
}

/** What presenting a refresh token led to. */
export type RotationOutcome =
  /** The token was current: it is now spent and `next` replaces it. */
  | { outcome: 'rotated'; sessionId: string; userId: string; refreshTokenExpiresAt: Date }
  /** The token had already been spent: the whole session is revoked (`revoked` false if it already was). */
  | { outcome: 'reused'; sessionId: string; userId: string; revoked: boolean }
  /** Unknown or expired token, or its session ended. */
  | { outcome: 'invalid' };

export interface RevokedSessions {
  userId: string;
  sessionIds: string[];
  reason: RevocationReason;
}

/** Builds the events a revocation publishes (in the revoking transaction, through the outbox). */
export type RevocationEvents = (revoked: RevokedSessions) => EventEnvelope[];

export interface SessionStore {
  open(input: OpenSessionInput): Promise<{ id: string }>;
  /**
   * Spends `tokenHash` and stores `next` as its successor, atomically: of two concurrent calls with the
   * same token exactly one rotates; the other sees a spent token (reuse).
   * `nextExpiresAt` gets the session's absolute end and returns the successor's expiry.
   */
  rotate(input: {
    tokenHash: string;
    nextHash: string;
    nextExpiresAt: (sessionExpiresAt: Date) => Date;
    now: Date;
    events: RevocationEvents;
  }): Promise<RotationOutcome>;
  /** Revokes one session of the user: 'not_found' when it is not theirs (or does not exist). */
  revoke(input: {
    userId: string;
    sessionId: string;
    reason: RevocationReason;
    events: RevocationEvents;
  }): Promise<'revoked' | 'already_ended' | 'not_found'>;
  /** Revokes every active session of the user but `except`; returns their ids. */
  revokeAll(input: {
    userId: string;
    reason: RevocationReason;
    except?: string;
    events: RevocationEvents;
  }): Promise<string[]>;
  /** Deletes sessions past their absolute end and refresh tokens past their expiry. */
  purgeExpired(now: Date): Promise<{ sessions: number; refreshTokens: number }>;
}

/** What the use cases need of sessions beyond opening them (implemented by auth/session.service.ts). */
export interface SessionManager extends SessionIssuer {
  /** Spends a refresh token; when it was current, returns its successor (shown once). */
  rotate(refreshToken: string): Promise<RefreshResult>;
  revoke(userId: string, sessionId: string, reason: RevocationReason): ReturnType<SessionStore['revoke']>;
  revokeAll(userId: string, reason: RevocationReason, options?: { except?: string }): Promise<string[]>;
}

export type RefreshResult =
  | {
      outcome: 'rotated';
      sessionId: string;
      userId: string;
      refreshToken: string;
      refreshTokenExpiresIn: number;
    }
  | Exclude<RotationOutcome, { outcome: 'rotated' }>;

/**
 * `session.revoked`: the gateway keeps the ids in its revocation list, so access tokens of these
 * sessions stop working before they expire (the contract with every consumer; add fields, never rename).
 */
export const SESSION_REVOKED = 'session.revoked';

export interface SessionRevokedData {
  user_id: string;
  session_ids: string[];
  reason: RevocationReason;
  revoked_at: string;
}

export function sessionRevokedEvents(source: string): RevocationEvents {
  return ({ userId, sessionIds, reason }) =>
    sessionIds.length === 0
      ? []
      : [
          createEvent<SessionRevokedData>({
            type: SESSION_REVOKED,
            source,
            subject: userId,
            data: {
              user_id: userId,
              session_ids: sessionIds,
              reason,
              revoked_at: new Date().toISOString(),
            },
          }),
        ];
}
