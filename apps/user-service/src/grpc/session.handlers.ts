import type { AsyncHandlers, teUserV1 } from '@te/grpc';
import { logoutAll } from '../domain/logout-all.use-case.js';
import { logout } from '../domain/logout.use-case.js';
import type { UserStore, TokenIssuer } from '../domain/ports.js';
import { refreshSession } from '../domain/refresh-session.use-case.js';
import type { SecurityAudit } from '../domain/security-audit.js';
import type { SessionManager } from '../domain/session.js';
import { sessionMessage, userMessage } from './messages.js';
import { callerId } from './profile.handlers.js';

export interface SessionHandlerDeps {
  sessions: SessionManager;
  users: UserStore;
  tokens: TokenIssuer;
  audit: SecurityAudit;
}

/** te.user.v1.SessionService: refresh-token rotation and logout (thin: translate and delegate). */
export function sessionHandlers(deps: SessionHandlerDeps): AsyncHandlers<teUserV1.SessionServiceHandlers> {
  return {
    async Refresh(request) {
      const { user, session } = await refreshSession(request.refreshToken, deps);
      return { user: userMessage(user), session: sessionMessage(session) };
    },

    async Logout(request, ctx) {
      const revoked = await logout(
        { userId: callerId(ctx), sessionId: request.sessionId, currentSessionId: ctx.principal?.sessionId },
        deps,
      );
      return { revokedSessionIds: revoked };
    },

    async LogoutAll(_request, ctx) {
      return { revokedSessionIds: await logoutAll(callerId(ctx), deps) };
    },
  };
}
