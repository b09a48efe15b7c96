import { status as Status, type handleUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { UnaryHandler } from './service-types.js';
import { runServerCall, type ServerCallDeps } from './server-call.js';

/**
 * Adapts `async (request, ctx) => response` to grpc-js's callback API. The callback is called exactly
 * once, whatever the handler does (throws, rejects, returns nothing).
 */
export function wrapUnary<Req, Res>(
  handler: UnaryHandler<Req, Res>,
  deps: ServerCallDeps,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let answered = false;
    const answer: sendUnaryData<Res> = (error, value, trailer, flags) => {
      if (answered) return;
      answered = true;
      callback(error, value, trailer, flags);
    };
    runServerCall(call, deps, async (ctx) => {
      const response = await handler(call.request, ctx);
      if (response === undefined || response === null) throw new Error('Handler returned no response');
      return response;
    }).then(
      (outcome) => (outcome.ok ? answer(null, outcome.value) : answer(outcome.status)),
      // runServerCall never rejects by design; this is the last guard of "exactly once".
      (error: unknown) => {
        deps.logger.error('gRPC call wrapper failed', {
          error_message: String(error),
          stack: (error as Error)?.stack,
        });
        answer({ code: Status.INTERNAL, details: 'Internal server error' });
      },
    );
  };
}
