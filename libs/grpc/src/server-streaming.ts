import { status as Status, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { ServerStreamingHandler } from './service-types.js';
import { runServerCall, type CallAnnotations, type ServerCallDeps } from './server-call.js';

/**
 * Adapts `async function* (request, ctx)` to grpc-js's writable stream. Each yielded message is
 * written in order and the generator is resumed only when the stream has room (`write()` returned
 * true, or 'drain'), so a slow reader holds the generator back instead of filling memory. Returning
 * ends the call with OK; throwing, before or after messages, ends it with the error's status and
 * trailers (runServerCall). When the caller cancels or the deadline passes, ctx.signal aborts,
 * nothing more is written and the generator is closed (`return()`, so its `finally` blocks run).
 */
export function wrapServerStreaming<Req, Res>(
  handler: ServerStreamingHandler<Req, Res>,
  deps: ServerCallDeps,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    runServerCall(call, deps, (ctx, annotations) =>
      pump(() => handler(call.request, ctx), call, ctx.signal, annotations, deps),
    ).then(
      (outcome) => {
        // A cancelled call already has its status (CANCELLED or DEADLINE_EXCEEDED) from grpc-js.
        if (call.cancelled) return;
        // Both wait for the messages already written, then send the status.
        if (outcome.ok) call.end();
        else call.emit('error', outcome.status);
      },
      // runServerCall never rejects by design; this is the last guard of "the call always ends".
      (error: unknown) => {
        deps.logger.error('gRPC call wrapper failed', {
          error_message: String(error),
          stack: (error as Error)?.stack,
        });
        if (!call.cancelled) call.emit('error', { code: Status.INTERNAL, details: 'Internal server error' });
      },
    );
  };
}

async function pump<Res>(
  start: () => AsyncIterable<Res>,
  call: ServerWritableStream<unknown, Res>,
  signal: AbortSignal,
  annotations: CallAnnotations,
  deps: ServerCallDeps,
): Promise<void> {
  const messages = start();
  if (typeof messages?.[Symbol.asyncIterator] !== 'function') {
    throw new Error('Streaming handler returned no AsyncIterable (write it as an async function*)');
  }
  const iterator = messages[Symbol.asyncIterator]();
  let sent = 0;
  let closed = false; // the generator finished or threw: nothing to close
  try {
    while (!signal.aborted) {
      const next = iterator.next();
      // A generator that ignores ctx.signal must not keep an abandoned call open; its pending step
      // may still reject later, which is nobody's business any more.
      next.catch(() => undefined);
      const result = await untilAborted(next, signal);
      if (result === ABORTED) break;
      if (result.done) {
        closed = true;
        break;
      }
      if (result.value === undefined || result.value === null) {
        throw new Error('Streaming handler yielded no message');
      }
      sent += 1;
      annotations['messages_sent'] = sent;
      if (!call.write(result.value)) await untilAborted(drained(call), signal);
    }
  } catch (error) {
    closed = true;
    throw error;
  } finally {
    if (!closed) {
      // Runs the generator's finally blocks (at once if it is paused at a yield, else when its
      // current step settles). Not awaited: a generator stuck on work that ignores the signal must
      // not hold the call open.
      iterator
        .return?.()
        .catch((error: unknown) =>
          deps.logger.warn('Streaming handler failed while closing', { error_message: String(error) }),
        );
    }
  }
}

const ABORTED = Symbol('aborted');

/** `promise`'s value, or ABORTED as soon as the signal aborts (listener removed either way). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves when the stream has room again, or when the call is cancelled (nothing will drain it). */
function drained(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.removeListener('drain', done);
      call.removeListener('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}
