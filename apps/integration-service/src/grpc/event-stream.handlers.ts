import type { AsyncHandlers, teIntegrationV1 } from '@te/grpc';
import { AppError } from '@te/platform';
import { streamEvents, type StreamEventsDeps } from '../event-stream/stream-events.use-case.js';

/** te.integration.v1.EventStream: the caller (principal) and the request → the use case → messages. */
export function eventStreamHandlers(
  deps: StreamEventsDeps,
): AsyncHandlers<teIntegrationV1.EventStreamHandlers> {
  return {
    async *StreamEvents(request, ctx) {
      if (!ctx.principal) throw new AppError('UNAUTHENTICATED', 'This call needs an authenticated caller');
      const messages = streamEvents(
        {
          userId: ctx.principal.userId.toLowerCase(),
          lastEventId: request.lastEventId,
          types: request.types,
        },
        deps,
        ctx.signal,
      );
      for await (const message of messages) {
        if ('opened' in message) yield { opened: message.opened };
        else yield { event: message.event };
      }
    },
  };
}
