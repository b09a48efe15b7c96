import type { AsyncHandlers, teUserV1 } from '@te/grpc';
import { getUser } from '../domain/get-user.use-case.js';
import { login } from '../domain/login.use-case.js';
import type { AccessToken, PasswordHasher, TokenIssuer, UserStore } from '../domain/ports.js';
import { registerUser } from '../domain/register-user.use-case.js';
import type { User } from '../domain/user.js';
import type { PublicJwk } from '../auth/signing-key.js';

export interface UserHandlerDeps {
  users: UserStore;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
  publicKeys: () => PublicJwk[];
  source: string;
}

/** te.user.v1.UserService: translate messages, delegate to the use cases, translate back. */
export function userHandlers(deps: UserHandlerDeps): AsyncHandlers<teUserV1.UserServiceHandlers> {
  return {
    async Register(request) {
      const session = await registerUser(
        { email: request.email, password: request.password, name: request.name },
        deps,
      );
      return { user: toMessage(session.user), accessToken: tokenMessage(session.accessToken) };
    },

    async Login(request) {
      const session = await login({ email: request.email, password: request.password }, deps);
      return { user: toMessage(session.user), accessToken: tokenMessage(session.accessToken) };
    },

    async GetUser(request) {
      return { user: toMessage(await getUser(request.id, deps)) };
    },

    async GetJwks() {
      return { keys: deps.publicKeys() };
    },
  };
}

function toMessage(user: User): teUserV1.User {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
  };
}

function tokenMessage(token: AccessToken): teUserV1.AccessToken {
  return { token: token.token, tokenType: token.tokenType, expiresIn: token.expiresIn };
}
