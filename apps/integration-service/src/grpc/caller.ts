import type { CallContext } from '@te/grpc';
import { AppError } from '@te/platform';

/**
 * Every webhook RPC acts on the authenticated caller only: the principal the gateway verified and
 * put in the call's metadata. A user id in a request is never trusted (the contract has none).
 */
export function callerId(ctx: CallContext): string {
  if (!ctx.principal) throw new AppError('UNAUTHENTICATED', 'This call needs an authenticated caller');
  return ctx.principal.userId.toLowerCase();
}
