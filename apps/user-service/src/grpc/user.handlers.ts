import type { AsyncHandlers, teUserV1 } from '@te/grpc';
import type { PublicJwk } from '../auth/signing-key.js';
import { changePassword } from '../domain/change-password.use-case.js';
import { getUser } from '../domain/get-user.use-case.js';
import { listSecurityEvents } from '../domain/list-security-events.use-case.js';
import type { LoginThrottle } from '../domain/login-throttle.js';
import { login } from '../domain/login.use-case.js';
import type { PasswordHasher, UserStore } from '../domain/ports.js';
import { registerUser } from '../domain/register-user.use-case.js';
import type { SecurityAudit } from '../domain/security-audit.js';
import type { SessionManager } from '../domain/session.js';
import { accessTokenMessage, securityEventMessage, sessionMessage, userMessage } from './messages.js';
import { callerId } from './profile.handlers.js';

export interface UserHandlerDeps {
  users: UserStore;
  hasher: PasswordHasher;
  sessions: SessionManager;
  throttle: LoginThrottle;
  audit: SecurityAudit;
  /** The JWKS: every key a valid token may be signed with. */
  publicKeys: () => Promise<PublicJwk[]>;
  adminEmails: readonly string[];
  source: string;
}

type UserServiceHandlers = AsyncHandlers<teUserV1.UserServiceHandlers>;
/** The RPCs of UserService that grpc/profile.handlers.ts serves. */
type ProfileRpcs = 'GetMe' | 'UpdateProfile' | 'DeleteAccount';

/**
 * te.user.v1.UserService, sign-in and credentials: translate messages, delegate to the use cases,
 * translate back. (The profile RPCs are in profile.handlers.ts; app.ts serves both as one service.)
 */
export function userHandlers(deps: UserHandlerDeps): Omit<UserServiceHandlers, ProfileRpcs> {
  return {
    async Register(request) {
      const { user, session } = await registerUser(
        { email: request.email, password: request.password, name: request.name },
        deps,
      );
      return {
        user: userMessage(user),
        accessToken: accessTokenMessage(session.accessToken),
        session: sessionMessage(session),
      };
    },

    async Login(request) {
      const { user, session } = await login({ email: request.email, password: request.password }, deps);
      return {
        user: userMessage(user),
        accessToken: accessTokenMessage(session.accessToken),
        session: sessionMessage(session),
      };
    },

    async GetUser(request) {
      return { user: userMessage(await getUser(request.id, deps)) };
    },

    async GetJwks() {
      return { keys: await deps.publicKeys() };
    },

    async ChangePassword(request, ctx) {
      const revoked = await changePassword(
        {
          userId: callerId(ctx),
          sessionId: ctx.principal?.sessionId,
          currentPassword: request.currentPassword,
          newPassword: request.newPassword,
        },
        deps,
      );
      return { revokedSessionIds: revoked };
    },

    async ListSecurityEvents(request, ctx) {
      const page = await listSecurityEvents(
        { userId: callerId(ctx), pageSize: request.pageSize, pageToken: request.pageToken },
        deps,
      );
      return { events: page.events.map(securityEventMessage), nextPageToken: page.nextPageToken };
    },
  };
}
