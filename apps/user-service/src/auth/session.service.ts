import { getRequestContext } from '@te/platform';
import type { SessionIssuer, SessionTokens, TokenIssuer } from '../domain/ports.js';
import {
  sessionRevokedEvents,
  type RefreshResult,
  type RevocationEvents,
  type RevocationReason,
  type SessionManager,
  type SessionStore,
} from '../domain/session.js';
import type { User } from '../domain/user.js';
import { hashRefreshToken, isWellFormedRefreshToken, newRefreshToken } from './refresh-token.js';

const DAY_MS = 24 * 3600_000;

export interface SessionSettings {
  /** Idle expiry: each refresh token lives this long (REFRESH_TOKEN_TTL_DAYS). */
  refreshTokenTtlDays: number;
  /** Absolute expiry of a session however often it is refreshed (SESSION_MAX_AGE_DAYS). */
  sessionMaxAgeDays: number;
}

export interface SessionServiceDeps {
  store: SessionStore;
  tokens: TokenIssuer;
  /** The service name, as the source of `session.revoked` events. */
  source: string;
  settings: SessionSettings;
  clock?: () => Date;
}

/**
 * Sessions as refresh-token families (RFC 9700 §4.14.2: rotation with reuse detection). Implements the
 * SessionIssuer port (register, login and OIDC sign-ins open sessions through it; each records its own
 * `sign_in` audit event) and what the session use cases need.
 */
export class SessionService implements SessionIssuer, SessionManager {
  private readonly clock: () => Date;
  private readonly events: RevocationEvents;

  constructor(private readonly deps: SessionServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.events = sessionRevokedEvents(deps.source);
  }

  async start(user: User, options: { authMethod: string }): Promise<SessionTokens> {
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + this.deps.settings.sessionMaxAgeDays * DAY_MS);
    const refresh = newRefreshToken();
    const refreshExpiresAt = this.refreshTokenExpiry(now, expiresAt);
    const client = getRequestContext()?.client;
    const { id } = await this.deps.store.open({
      userId: user.id,
      authMethod: options.authMethod,
      expiresAt,
      ip: client?.ip,
      userAgent: client?.userAgent,
      refreshToken: { hash: refresh.hash, expiresAt: refreshExpiresAt },
    });
    const accessToken = await this.deps.tokens.issueAccessToken(user, id);
    return {
      sessionId: id,
      accessToken,
      refreshToken: refresh.token,
      refreshTokenExpiresIn: secondsBetween(now, refreshExpiresAt),
    };
  }

  async rotate(refreshToken: string): Promise<RefreshResult> {
    if (!isWellFormedRefreshToken(refreshToken)) return { outcome: 'invalid' };
    const now = this.clock();
    const next = newRefreshToken();
    const outcome = await this.deps.store.rotate({
      tokenHash: hashRefreshToken(refreshToken),
      nextHash: next.hash,
      nextExpiresAt: (sessionExpiresAt) => this.refreshTokenExpiry(now, sessionExpiresAt),
      now,
      events: this.events,
    });
    if (outcome.outcome !== 'rotated') return outcome;
    return {
      outcome: 'rotated',
      sessionId: outcome.sessionId,
      userId: outcome.userId,
      refreshToken: next.token,
      refreshTokenExpiresIn: secondsBetween(now, outcome.refreshTokenExpiresAt),
    };
  }

  revoke(userId: string, sessionId: string, reason: RevocationReason) {
    return this.deps.store.revoke({ userId, sessionId, reason, events: this.events });
  }

  revokeAll(userId: string, reason: RevocationReason, options: { except?: string } = {}) {
    return this.deps.store.revokeAll({ userId, reason, except: options.except, events: this.events });
  }

  /** Deletes what can no longer be used (the scheduled purge). */
  purgeExpired() {
    return this.deps.store.purgeExpired(this.clock());
  }

  // Idle expiry, never past the session's absolute end.
  private refreshTokenExpiry(now: Date, sessionExpiresAt: Date): Date {
    const idle = now.getTime() + this.deps.settings.refreshTokenTtlDays * DAY_MS;
    return new Date(Math.min(idle, sessionExpiresAt.getTime()));
  }
}

function secondsBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));
}
