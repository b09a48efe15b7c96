import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createEvent, RabbitMqEventBus } from '@te/events';
import { captureLogger, createMetrics } from '@te/platform';
import { testAmqp, waitFor } from '@te/testing';
import {
  call,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { IntegrationServiceProcess } from './support/integration-service.process.js';
import { UserServiceProcess } from './support/user-service.process.js';

// End to end over real HTTP, gRPC and RabbitMQ: user-service publishes user.registered on this run's
// exchange, the built integration-service process logs it in the user's event log, and
// GET /api/v1/events relays the log as server-sent events. Other events are published on the same
// exchange, as their producers would.

const HEARTBEAT_MS = 300;
const RETRY_MS = 4321;
/** Its own name, so its event-tail connection is recognisable in CLIENT LIST. */
const SERVICE_NAME = `integration-service-${randomUUID().slice(0, 8)}`;

let userService: UserServiceProcess | undefined;
let integrationService: IntegrationServiceProcess | undefined;
let gateway: RunningGateway;
let publisher: RabbitMqEventBus;
let redis: Redis;

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  integrationService = await IntegrationServiceProcess.create({ SERVICE_NAME });
  await Promise.all([userService.start(), integrationService.start()]);
  gateway = await startGateway(userService.address, {
    INTEGRATION_SERVICE_ADDR: integrationService.address,
    EVENTS_HEARTBEAT_MS: String(HEARTBEAT_MS),
    EVENTS_RETRY_MS: String(RETRY_MS),
  });
  const amqp = testAmqp();
  publisher = new RabbitMqEventBus({
    url: amqp.url,
    exchange: amqp.exchange,
    logger: captureLogger('publisher').logger,
    metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
    connectionName: 'test-publisher',
  });
  await publisher.connect();
  redis = new Redis(process.env['REDIS_URL'] || 'redis://127.0.0.1:6379');
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await publisher?.close();
  await gateway?.stop();
  await userService?.dispose();
  await integrationService?.dispose();
}, 60_000);

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

/** An open GET /api/v1/events, its body parsed as it arrives (WHATWG SSE field parsing). */
interface EventStreamResponse {
  status: number;
  headers: Headers;
  /** Every block received so far (events, retry hints, comments). */
  blocks: SseEvent[];
  /** The blocks with data: the events. */
  events(): (SseEvent & { json: Record<string, unknown> })[];
  close(): void;
}

async function openEvents(
  session: Session,
  options: { query?: string; lastEventId?: string } = {},
): Promise<EventStreamResponse> {
  const controller = new AbortController();
  const headers: Record<string, string> = {
    authorization: `Bearer ${session.access_token}`,
    accept: 'text/event-stream',
  };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(`${gateway.baseUrl}/api/v1/events${options.query ?? ''}`, {
    headers,
    signal: controller.signal,
  });
  const blocks: SseEvent[] = [];
  if (response.status === 200) void readBlocks(response, blocks);
  streams.push(controller);
  return {
    status: response.status,
    headers: response.headers,
    blocks,
    events: () =>
      blocks
        .filter((block) => block.data !== undefined)
        .map((block) => ({ ...block, json: JSON.parse(block.data!) as Record<string, unknown> })),
    close: () => controller.abort(),
  };
}

async function readBlocks(response: Response, blocks: SseEvent[]): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block: SseEvent = { comments: [] };
        for (const line of buffer.slice(0, end).split('\n')) {
          if (line.startsWith(':')) block.comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon) as 'id' | 'event' | 'data' | 'retry';
            block[field] = line.slice(colon + 1).replace(/^ /, '');
          }
        }
        blocks.push(block);
        buffer = buffer.slice(end + 2);
      }
    }
  } catch {
    // aborted by the test
  }
}

const streams: AbortController[] = [];
afterEach(() => {
  for (const controller of streams.splice(0)) controller.abort();
});

const until = <T>(predicate: () => T | Promise<T>, description: string) =>
  waitFor(predicate, { timeoutMs: 20_000, description });

async function newUser(): Promise<Session> {
  const { status, body } = await register(gateway.baseUrl);
  expect(status).toBe(201);
  return body.data!;
}

const sessionCreated = (userId: string) =>
  createEvent({
    type: 'context.session.created',
    source: 'context-service',
    subject: randomUUID(),
    data: { session_id: randomUUID(), user_id: userId, created_at: new Date().toISOString() },
  });

describe('GET /api/v1/events', () => {
  test('When a new user opens the stream from the start, then user.registered arrives as an SSE event with its log id, then live events follow', async () => {
    const alice = await newUser();

    const stream = await openEvents(alice, { query: '?last_event_id=0-0' });

    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('cache-control')).toBe('no-store');
    expect(stream.headers.get('x-accel-buffering')).toBe('no');
    await until(() => stream.events().length === 1, 'user.registered');
    expect(stream.blocks[0]).toEqual({ retry: String(RETRY_MS), comments: [] });
    const [registered] = stream.events();
    expect(registered).toMatchObject({ event: 'user.registered', id: expect.stringMatching(/^\d+-\d+$/) });
    expect(registered!.json).toEqual({
      id: expect.any(String),
      type: 'user.registered',
      occurred_at: expect.any(String),
      data: expect.objectContaining({ user_id: alice.user.id }),
    });

    const live = sessionCreated(alice.user.id);
    await publisher.publish(live);
    await until(() => stream.events().length === 2, 'the live event');
    expect(stream.events()[1]).toMatchObject({ event: 'context.session.created', json: { id: live.id } });
    expect(Number(stream.events()[1]!.id!.split('-')[0])).toBeGreaterThanOrEqual(
      Number(registered!.id!.split('-')[0]),
    );
  });

  test('When a client reconnects with Last-Event-ID, then exactly the events after it are replayed; another user never sees them', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const first = await openEvents(alice, { query: '?last_event_id=0-0' });
    await until(() => first.events().length === 1, 'user.registered');
    const later = [sessionCreated(alice.user.id), sessionCreated(alice.user.id)];
    for (const event of later) await publisher.publish(event);
    await until(() => first.events().length === 3, 'the two later events');
    first.close();

    const resumed = await openEvents(alice, {
      lastEventId: first.events()[0]!.id!,
      query: '?last_event_id=0-0', // the header (what EventSource sends on reconnect) wins
    });
    expect(resumed.status).toBe(200);
    await until(() => resumed.events().length === 2, 'the replay');
    expect(resumed.events().map((e) => e.id)).toEqual(
      first
        .events()
        .slice(1)
        .map((e) => e.id),
    );
    expect(resumed.events().map((e) => e.json['id'])).toEqual(expect.arrayContaining(later.map((e) => e.id)));

    const bobs = await openEvents(bob, { query: '?last_event_id=0-0' });
    await until(() => bobs.events().length === 1, "Bob's user.registered");
    const bobsOwn = sessionCreated(bob.user.id);
    await publisher.publish(bobsOwn);
    await until(() => bobs.events().length === 2, "Bob's live event");
    expect(bobs.events().map((e) => (e.json['data'] as { user_id: string }).user_id)).toEqual([
      bob.user.id,
      bob.user.id,
    ]);
  });

  test('When types are given, then only those are streamed', async () => {
    const carol = await newUser();
    const stream = await openEvents(carol, { query: '?last_event_id=0-0&types=context.session.created' });
    expect(stream.status).toBe(200);
    const wanted = sessionCreated(carol.user.id);
    await publisher.publish(wanted);
    await until(() => stream.events().length === 1, 'the session event');
    expect(stream.events().map((e) => e.event)).toEqual(['context.session.created']); // not user.registered
  });

  test('When the stream is idle, then heartbeat comments keep it alive', async () => {
    const dave = await newUser();
    const stream = await openEvents(dave);
    expect(stream.status).toBe(200);
    await until(
      () => stream.blocks.filter((b) => b.comments.includes('heartbeat')).length >= 2,
      'heartbeats',
    );
    expect(stream.events()).toEqual([]); // no last_event_id: live only, and nothing happened
  });

  test('When the client disconnects, then the upstream stream is cancelled and its reader released', async () => {
    const tail = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .find((line) => line.includes(` name=${SERVICE_NAME}:event-tail `));
    // Earlier tests' streams were closed by afterEach: wait for the service to notice them.
    await until(async () => !/flags=b/.test((await tail()) ?? ''), 'no stream open');
    const erin = await newUser();
    const stream = await openEvents(erin);
    expect(stream.status).toBe(200);
    await until(async () => /flags=b/.test((await tail()) ?? ''), 'the tail reading for the open stream');

    stream.close();

    await until(async () => !/flags=b/.test((await tail()) ?? ''), 'the tail idle again');
  });

  test('When there is no credential, then 401; a malformed Last-Event-ID or type, then 400 in the envelope', async () => {
    const frank = await newUser();
    const headers = { authorization: `Bearer ${frank.access_token}` };

    const anonymous = await call(gateway.baseUrl, 'GET', '/api/v1/events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error?.code).toBe('UNAUTHENTICATED');

    for (const [request, field] of [
      [{ headers: { ...headers, 'last-event-id': 'abc' } }, 'Last-Event-ID'],
      [{ headers: { ...headers, 'last-event-id': '1-2-3' } }, 'Last-Event-ID'],
      [{ headers, path: '?last_event_id=nope' }, 'last_event_id'],
      [{ headers, path: '?types=context.session.created,NOT%20A%20TYPE' }, 'types'],
      [{ headers, path: '?colour=blue' }, 'colour'],
      // Well-formed but not a user-visible type: integration-service refuses it before the stream opens.
      [{ headers, path: '?types=session.revoked' }, 'types'],
      // Well-formed but beyond 64 bits: refused by the service.
      [{ headers: { ...headers, 'last-event-id': '99999999999999999999-0' } }, 'last_event_id'],
    ] as const) {
      const response = await call(
        gateway.baseUrl,
        'GET',
        `/api/v1/events${'path' in request ? request.path : ''}`,
        {
          headers: request.headers,
        },
      );
      expect([response.status, response.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(response.body.error?.fields).toEqual([expect.objectContaining({ field })]);
      expect(response.headers.get('content-type')).toContain('application/json');
    }
  });
});
