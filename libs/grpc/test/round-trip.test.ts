import { SpanKind, trace } from '@opentelemetry/api';
import { AppError, runWithRequestContext, startTracing, withSpan, type Tracing } from '@te/platform';
import { callUnary, type CallContext } from '../src/index.js';
import { recordSpans, startUserService, type Harness } from './support.js';

describe('UserService over gRPC', () => {
  let tracing: Tracing;
  let harness: Harness;
  const recorded = recordSpans();

  beforeAll(() => {
    tracing = startTracing({ service: 'grpc-test', spanProcessors: [recorded.processor] });
  });
  afterAll(async () => {
    await tracing.shutdown();
  });
  afterEach(async () => {
    await harness?.close();
  });

  it('When a user registers, then the client receives the typed response with defaults filled in', async () => {
    harness = await startUserService();

    const response = await callUnary(harness.client, 'Register', {
      email: ' Ada@Example.com ',
      password: 'correct horse',
      name: 'Ada',
    });

    expect(response.user).toEqual({
      id: 'u1',
      email: 'ada@example.com',
      name: 'Ada',
      roles: ['user'],
      createdAt: '2026-01-31T12:00:00.000Z',
      locale: 'en',
      preferencesJson: '{}',
    });
    expect(response.accessToken).toEqual({ token: 'token-for-u1', tokenType: 'Bearer', expiresIn: 900 });
    const keys = await callUnary(harness.client, 'GetJwks', {});
    // Compile-time contract (checked by `tsc -b`): misspelt fields and unknown RPCs do not compile.
    // @ts-expect-error 'emial' is not a RegisterRequest field
    void (() => callUnary(harness.client, 'Register', { emial: 'ada@example.com' }));
    // @ts-expect-error UserService has no DeleteUser RPC
    void (() => callUnary(harness.client, 'DeleteUser', {}));
    // @ts-expect-error responses are typed too: keys is a list
    void (async () => (await callUnary(harness.client, 'GetJwks', {})).keys.toUpperCase());
    // defaults: true, so unused key fields arrive as empty strings rather than undefined.
    expect(keys.keys[0]).toMatchObject({ kid: 'k1', crv: 'P-256', n: '', e: '' });
  });

  it('When called inside a request with a principal and a span, then the handler sees the same request id, principal and trace', async () => {
    let seen: { ctx: CallContext; traceId?: string } | undefined;
    harness = await startUserService({
      async GetUser(request, ctx) {
        seen = { ctx, traceId: trace.getActiveSpan()?.spanContext().traceId };
        return { user: { id: request.id } };
      },
    });
    const principal = {
      userId: 'u42',
      roles: ['admin'],
      scopes: ['users:read'],
      authMethod: 'jwt',
      sessionId: 's-9',
    };
    const publicClient = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11) ünïcode' };

    const caller = await runWithRequestContext(
      { requestId: 'req-123', principal, client: publicClient },
      () =>
        withSpan('caller', {}, async (span) => {
          await callUnary(harness.client, 'GetUser', { id: 'u42' });
          return span.spanContext();
        }),
    );

    expect(seen?.ctx.requestId).toBe('req-123');
    expect(seen?.ctx.principal).toEqual(principal);
    // The public client's address and user agent cross as ASCII-safe metadata.
    expect(seen?.ctx.client).toEqual({ ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11) ?n?code' });
    expect(seen?.ctx.deadline).toBeInstanceOf(Date);
    expect(seen?.traceId).toBe(caller.traceId);
    // caller span → client span → server span, linked through the traceparent metadata.
    const mine = recorded.spans.filter((span) => span.spanContext().traceId === caller.traceId);
    const client = mine.find((span) => span.kind === SpanKind.CLIENT);
    const server = mine.find((span) => span.kind === SpanKind.SERVER);
    expect(client?.name).toBe('te.user.v1.UserService/GetUser');
    expect(client?.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    expect(seen?.ctx.metadata.get('traceparent')[0]).toContain(client?.spanContext().spanId);
  });

  it('When the caller sends no request id, then the server mints one and logs carry it', async () => {
    let requestId = '';
    harness = await startUserService({
      async GetUser(_request, ctx) {
        requestId = ctx.requestId;
        throw new AppError('NOT_FOUND', 'User not found');
      },
    });

    await expect(callUnary(harness.client, 'GetUser', { id: 'nobody' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });

    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const line = harness.log.lines().find((l) => l.message === 'gRPC call rejected');
    expect(line).toMatchObject({ request_id: requestId, grpc_method: 'GetUser', error_code: 'NOT_FOUND' });
  });

  it('When x-te-principal is malformed, then the call is rejected as UNAUTHENTICATED before the handler runs', async () => {
    const handler = jest.fn();
    harness = await startUserService({ GetUser: handler });
    const { Metadata } = await import('@grpc/grpc-js');
    const metadata = new Metadata();
    metadata.set('x-te-principal', 'not-base64-json');

    await expect(callUnary(harness.client, 'GetUser', { id: 'u1' }, { metadata })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(handler).not.toHaveBeenCalled();
  });

  it('When a handler calls another service, then the outgoing call inherits the shorter inbound deadline', async () => {
    const downstream = await startUserService({
      async GetUser(request, ctx) {
        return { user: { id: request.id, name: String(ctx.deadline?.getTime()) } };
      },
    });
    let inbound: Date | undefined;
    harness = await startUserService({
      async GetUser(request, ctx) {
        inbound = ctx.deadline;
        // The downstream client's own default is 5 s; the inbound call allows 2 s.
        const { user } = await callUnary(downstream.client, 'GetUser', request);
        return { user };
      },
    });

    try {
      const { user } = await callUnary(harness.client, 'GetUser', { id: 'u1' }, { deadlineMs: 2_000 });
      const downstreamDeadline = Number(user?.name);
      expect(inbound).toBeDefined();
      // grpc-timeout has millisecond-ish precision on the wire; allow a little rounding.
      expect(Math.abs(downstreamDeadline - (inbound as Date).getTime())).toBeLessThan(50);
      expect(downstreamDeadline).toBeLessThan(Date.now() + 2_500);
    } finally {
      await downstream.close();
    }
  });
});
