import type { AsyncHandlers, CallContext, teUserV1 } from '@te/grpc';
import { AppError, type Logger, type Principal } from '@te/platform';
import { deleteAccount } from '../domain/delete-account.use-case.js';
import { getUser } from '../domain/get-user.use-case.js';
import type { AccountStore, UserStore } from '../domain/ports.js';
import { updateProfile } from '../domain/update-profile.use-case.js';
import { userMessage } from './messages.js';

export interface ProfileHandlerDeps {
  users: UserStore;
  accounts: AccountStore;
  /** `source` of the events this service publishes (its name). */
  source: string;
  logger: Logger;
}

type UserServiceHandlers = AsyncHandlers<teUserV1.UserServiceHandlers>;

/** te.user.v1.UserService, the caller's own account: GetMe, UpdateProfile, DeleteAccount. */
export function profileHandlers(
  deps: ProfileHandlerDeps,
): Pick<UserServiceHandlers, 'GetMe' | 'UpdateProfile' | 'DeleteAccount'> {
  return {
    async GetMe(_request, ctx) {
      return { user: userMessage(await getUser(callerId(ctx), deps)) };
    },

    async UpdateProfile(request, ctx) {
      const user = await updateProfile(
        callerId(ctx),
        {
          name: request.name,
          locale: request.locale,
          preferences: request.preferencesJson === undefined ? undefined : parseJson(request.preferencesJson),
        },
        deps,
      );
      return { user: userMessage(user) };
    },

    async DeleteAccount(_request, ctx) {
      return deleteAccount(caller(ctx), deps);
    },
  };
}

/** Self-service RPCs act on the authenticated caller only (the principal the gateway verified). */
export function callerId(ctx: CallContext): string {
  return caller(ctx).userId;
}

/** The verified principal of a self-service or admin call (roles, scopes, how it authenticated). */
export function caller(ctx: CallContext): Principal {
  if (!ctx.principal) throw new AppError('UNAUTHENTICATED', 'This call needs an authenticated caller');
  return ctx.principal;
}

// Text that is not JSON becomes null, which the profile policy reports as "must be a JSON object"
// together with any other bad field.
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
