import { AppError } from '@te/platform';
import type { SessionTokens, TokenIssuer, UserStore } from './ports.js';
import type { SecurityAudit } from './security-audit.js';
import type { SessionManager } from './session.js';
import type { User } from './user.js';

export interface RefreshSessionDeps {
  sessions: SessionManager;
  users: UserStore;
  tokens: TokenIssuer;
  audit: SecurityAudit;
}

/**
 * Exchanges a refresh token for a new access token and a new refresh token; the one presented is spent
 * (RFC 9700 §4.14.2 refresh token rotation). Presenting a spent token again means it was copied: the
 * whole session is revoked, for the thief and the legitimate client alike, and the event is audited.
 * Every failure is the same 401, so a caller learns nothing about which tokens exist.
 */
export async function refreshSession(
  refreshToken: string,
  deps: RefreshSessionDeps,
): Promise<{ user: User; session: SessionTokens }> {
  const result = await deps.sessions.rotate(refreshToken);
  if (result.outcome === 'reused') {
    await deps.audit.record({
      userId: result.userId,
      type: 'refresh_token_reused',
      details: { session_id: result.sessionId, session_revoked: result.revoked },
    });
  }
  if (result.outcome !== 'rotated') throw invalidRefreshToken();
  // Roles are read again, so a refreshed token carries the account's current roles and scopes.
  const user = await deps.users.findById(result.userId);
  if (!user) throw invalidRefreshToken();
  return {
    user,
    session: {
      sessionId: result.sessionId,
      accessToken: await deps.tokens.issueAccessToken(user, result.sessionId),
      refreshToken: result.refreshToken,
      refreshTokenExpiresIn: result.refreshTokenExpiresIn,
    },
  };
}

function invalidRefreshToken(): AppError {
  return new AppError('UNAUTHENTICATED', 'The refresh token is invalid, expired or revoked');
}
