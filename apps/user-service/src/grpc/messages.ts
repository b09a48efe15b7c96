import type { teUserV1 } from '@te/grpc';
import type { AccessToken, SessionTokens } from '../domain/ports.js';
import type { RecordedSecurityEvent } from '../domain/security-audit.js';
import type { User } from '../domain/user.js';

/** The wire form of a user (never the password hash). */
export function userMessage(user: User): teUserV1.User {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: user.roles,
    locale: user.locale,
    preferencesJson: JSON.stringify(user.preferences),
    createdAt: user.createdAt.toISOString(),
  };
}

export function accessTokenMessage(token: AccessToken): teUserV1.AccessToken {
  return { token: token.token, tokenType: token.tokenType, expiresIn: token.expiresIn };
}

/** A new or refreshed session: the refresh token appears here once and is never stored in clear. */
export function sessionMessage(session: SessionTokens): teUserV1.Session {
  return {
    id: session.sessionId,
    accessToken: accessTokenMessage(session.accessToken),
    refreshToken: session.refreshToken,
    refreshTokenExpiresIn: session.refreshTokenExpiresIn,
  };
}

export function securityEventMessage(event: RecordedSecurityEvent): teUserV1.SecurityEvent {
  return {
    id: event.id,
    type: event.type,
    ip: event.ip ?? '',
    userAgent: event.userAgent ?? '',
    detailsJson: JSON.stringify(event.details),
    createdAt: event.createdAt.toISOString(),
  };
}
