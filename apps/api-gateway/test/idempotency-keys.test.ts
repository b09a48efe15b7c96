import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startFakeAiGateway, testRedisPrefix, waitFor, type FakeAiGateway } from '@te/testing';
import {
  call,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { ContextServiceProcess } from './support/context-service.process.js';
import { UserServiceProcess } from './support/user-service.process.js';

// `Idempotency-Key` on POST under /api/v1 (decision 0023-gateway-edge), through real HTTP: the gateway
// in-process on its own Redis prefix, user-service and context-service as processes, a fake AI gateway
// whose answers the test can hold back.
let userService: UserServiceProcess | undefined;
let contextService: ContextServiceProcess | undefined;
let ai: FakeAiGateway | undefined;
let gateway: RunningGateway;
let redis: Redis;
const redisPrefix = `${testRedisPrefix().prefix}idem-${randomUUID().slice(0, 8)}:`;
let alice: Session;
let bob: Session;

beforeAll(async () => {
  userService = await UserServiceProcess.create();
  ai = await startFakeAiGateway({ models: [{ name: 'explainer' }] });
  contextService = await ContextServiceProcess.create({ AI_GATEWAY_SERVICE_ADDR: ai.address });
  await Promise.all([userService.start(), contextService.start()]);
  gateway = await startGateway(userService.address, {
    CONTEXT_SERVICE_ADDR: contextService.address,
    REDIS_KEY_PREFIX: redisPrefix,
  });
  redis = new Redis(process.env['REDIS_URL'] || 'redis://127.0.0.1:6379');
  alice = (await register(gateway.baseUrl)).body.data!;
  bob = (await register(gateway.baseUrl)).body.data!;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  redis?.disconnect();
  await userService?.dispose();
  await contextService?.dispose();
  await ai?.stop();
}, 60_000);

interface ConversationSession {
  id: string;
  title: string | null;
}

const post = <T = Record<string, unknown>>(who: Session, path: string, json: unknown, key?: string) =>
  call<T>(gateway.baseUrl, 'POST', path, {
    json,
    headers: {
      authorization: `Bearer ${who.access_token}`,
      ...(key !== undefined && { 'idempotency-key': key }),
    },
  });

async function sessionsOf(who: Session): Promise<ConversationSession[]> {
  const list = await call<{ sessions: ConversationSession[] }>(gateway.baseUrl, 'GET', '/api/v1/sessions', {
    headers: { authorization: `Bearer ${who.access_token}` },
  });
  return list.body.data!.sessions;
}

/** Every value the gateway keeps in Redis (its own prefix). */
async function storedValues(): Promise<string> {
  const keys = await redis.keys(`${redisPrefix}*`);
  const values = await Promise.all(keys.map((key) => redis.get(key).catch(() => '')));
  return values.join('\n');
}

test('When a POST is retried with the same key and body, then the first answer is replayed with Idempotent-Replayed and nothing is created twice', async () => {
  const key = `create-${randomUUID()}`;
  const title = `once ${randomUUID()}`;

  const first = await post<{ session: ConversationSession }>(alice, '/api/v1/sessions', { title }, key);
  const retry = await post<{ session: ConversationSession }>(alice, '/api/v1/sessions', { title }, key);

  expect(first.status).toBe(201);
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  expect(retry.status).toBe(201);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  expect(retry.body.data).toEqual(first.body.data);
  // The envelope's metadata is this response's own.
  expect(retry.body.metadata.request_id).toBe(retry.headers.get('x-request-id'));
  expect(retry.body.metadata.request_id).not.toBe(first.body.metadata.request_id);
  expect((await sessionsOf(alice)).filter((s) => s.title === title)).toHaveLength(1);
});

test('When the same key comes with another body, then 422 names the Idempotency-Key and nothing is created', async () => {
  const key = `reuse-${randomUUID()}`;
  const title = `first ${randomUUID()}`;
  expect((await post(alice, '/api/v1/sessions', { title }, key)).status).toBe(201);

  const other = await post(alice, '/api/v1/sessions', { title: `${title} changed` }, key);

  expect(other.status).toBe(422);
  expect(other.body).toMatchObject({
    success: false,
    error: { code: 'VALIDATION_FAILED', fields: [{ field: 'Idempotency-Key' }] },
  });
  expect((await sessionsOf(alice)).some((s) => s.title === `${title} changed`)).toBe(false);
});

test('When another user sends the same key and body, then it is their own request (no replay across users)', async () => {
  const key = `shared-${randomUUID()}`;
  const body = { title: `same ${randomUUID()}` };

  const fromAlice = await post<{ session: ConversationSession }>(alice, '/api/v1/sessions', body, key);
  const fromBob = await post<{ session: ConversationSession }>(bob, '/api/v1/sessions', body, key);

  expect([fromAlice.status, fromBob.status]).toEqual([201, 201]);
  expect(fromBob.headers.get('idempotent-replayed')).toBeNull();
  expect(fromBob.body.data!.session.id).not.toBe(fromAlice.body.data!.session.id);
  expect((await sessionsOf(bob)).map((s) => s.id)).toContain(fromBob.body.data!.session.id);
});

test('When a duplicate arrives while the first is in flight, then 409 CONFLICT; once it ends, the retry replays it and the model ran once', async () => {
  const session = (await post<{ session: ConversationSession }>(alice, '/api/v1/sessions', {})).body.data!
    .session;
  const original = ai!.state.behaviour;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  ai!.state.behaviour = async (request, ctx) => {
    await held;
    return original(request, ctx);
  };
  const key = `message-${randomUUID()}`;
  const content = `question ${randomUUID()}`;
  const path = `/api/v1/sessions/${session.id}/messages`;
  try {
    const first = post<{ message: { id: string } }>(alice, path, { content }, key);
    await waitFor(
      async () => ai!.state.infers.some((infer) => JSON.stringify(infer.request).includes(content)),
      {
        timeoutMs: 20_000,
        intervalMs: 50,
        description: 'the first request to reach the model',
      },
    );

    const duplicate = await post(alice, path, { content }, key);

    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('in progress'),
    });
    release();
    const answered = await first;
    expect(answered.status).toBe(201);
    const retry = await post<{ message: { id: string } }>(alice, path, { content }, key);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.data!.message.id).toBe(answered.body.data!.message.id);
    expect(ai!.state.infers.filter((infer) => JSON.stringify(infer.request).includes(content))).toHaveLength(
      1,
    );
  } finally {
    release();
    ai!.state.behaviour = original;
  }
});

test('When a 4xx is the final answer, then it is replayed too', async () => {
  const key = `missing-${randomUUID()}`;
  const path = `/api/v1/sessions/${randomUUID()}/messages`;

  const first = await post(alice, path, { content: 'hello' }, key);
  const retry = await post(alice, path, { content: 'hello' }, key);

  expect(first.status).toBe(404);
  expect([retry.status, retry.body.error?.code]).toEqual([404, 'NOT_FOUND']);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
});

test('When a route answers with a secret (API key creation), then the answer is never stored: a retry runs again', async () => {
  const key = `apikey-${randomUUID()}`;
  const body = { name: 'idem', scopes: ['profile:read'] };

  const first = await post<{ api_key: { id: string }; secret: string }>(alice, '/api/v1/api-keys', body, key);
  const again = await post<{ api_key: { id: string }; secret: string }>(alice, '/api/v1/api-keys', body, key);

  expect([first.status, again.status]).toEqual([201, 201]);
  expect(again.headers.get('idempotent-replayed')).toBeNull();
  expect(again.body.data!.api_key.id).not.toBe(first.body.data!.api_key.id);
  const stored = await storedValues();
  expect(stored).not.toContain(first.body.data!.secret);
  expect(stored).not.toContain(again.body.data!.secret);
});

test('When the key is malformed, then 400 VALIDATION_FAILED and the request does not run', async () => {
  const title = `bad key ${randomUUID()}`;

  const answer = await post(alice, '/api/v1/sessions', { title }, 'not a valid key!');

  expect(answer.status).toBe(400);
  expect(answer.body.error).toMatchObject({
    code: 'VALIDATION_FAILED',
    fields: [{ field: 'Idempotency-Key' }],
  });
  expect((await sessionsOf(alice)).some((s) => s.title === title)).toBe(false);
});

test('When a message is streamed (SSE), then it is not replayed: the key only guards the flight', async () => {
  const session = (await post<{ session: ConversationSession }>(alice, '/api/v1/sessions', {})).body.data!
    .session;
  const key = `stream-${randomUUID()}`;
  const stream = () =>
    fetch(`${gateway.baseUrl}/api/v1/sessions/${session.id}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice.access_token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ content: 'stream me', mode: 'stream' }),
      signal: AbortSignal.timeout(20_000),
    });

  const first = await stream();
  expect(first.headers.get('content-type')).toContain('text/event-stream');
  expect(await first.text()).toContain('event: reply');
  // The claim is released as the response closes; wait for it rather than racing it.
  await waitFor(async () => !(await storedValues()).includes('in_flight'), {
    timeoutMs: 10_000,
    intervalMs: 50,
    description: 'the stream’s claim to be released',
  });
  const second = await stream();

  expect(second.status).toBe(200);
  expect(second.headers.get('idempotent-replayed')).toBeNull();
  expect(await second.text()).toContain('event: reply');
});
