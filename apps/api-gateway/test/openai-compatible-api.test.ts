import OpenAI, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions';
import { AppError, SCOPES } from '@te/platform';
import { waitFor, echo, startFakeAiGateway, streamScript, type FakeAiGateway } from '@te/testing';
import { AiGatewayServiceProcess } from './support/ai-gateway-service.process.js';
import { call, register, startGateway, type RunningGateway } from './support/gateway.harness.js';
import { renderTextImage } from './support/text-image.js';
import { UserServiceProcess } from './support/user-service.process.js';

// The official `openai` SDK as the client, over real HTTP, against the gateway's /v1: one gateway in
// front of the built ai-gateway-service process (its seeded offline `local` model, deterministic), and
// one in front of a fake AI gateway (a real te.ai.v1 gRPC server on loopback) for scripted answers,
// failures and cancellations. Both authenticate through the real user-service.

let userService: UserServiceProcess | undefined;
let aiGateway: AiGatewayServiceProcess | undefined;
let fake: FakeAiGateway;
let gateway: RunningGateway;
let fakeGateway: RunningGateway;
let accessToken: string;
let userId: string;
let explainKey: string;
let profileKey: string;

const SCREEN = [
  'Error 404: the page you asked for was not found on this server.',
  'Click Save to keep your changes.',
  'The printer is offline.',
].join('\n');
const QUESTION: ChatCompletionCreateParamsNonStreaming = {
  model: 'explainer',
  messages: [
    { role: 'developer', content: SCREEN },
    { role: 'user', content: 'What does error 404 mean?' },
  ],
};

const clientOf = (baseUrl: string, apiKey = explainKey) =>
  new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });

/** What a promise rejected with (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    return error as APIError;
  }
  throw new Error('expected the call to fail');
}

async function createKey(scopes: string[]): Promise<string> {
  const created = await call<{ secret: string }>(gateway.baseUrl, 'POST', '/api/v1/api-keys', {
    json: { name: `openai ${scopes.join(' ')}`, scopes },
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect(created.status).toBe(201);
  return created.body.data!.secret;
}

beforeAll(async () => {
  fake = await startFakeAiGateway({
    models: [{ name: 'explainer' }, { name: 'vision-explainer', vision: true }],
  });
  userService = await UserServiceProcess.create();
  aiGateway = await AiGatewayServiceProcess.create();
  await Promise.all([userService.start(), aiGateway.start()]);
  gateway = await startGateway(userService.address, { AI_GATEWAY_SERVICE_ADDR: aiGateway.address });
  fakeGateway = await startGateway(userService.address, { AI_GATEWAY_SERVICE_ADDR: fake.address });
  const registered = await register(gateway.baseUrl);
  expect(registered.status).toBe(201);
  accessToken = registered.body.data!.access_token;
  userId = registered.body.data!.user.id;
  explainKey = await createKey([SCOPES.explain]);
  profileKey = await createKey([SCOPES.profileRead]);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await fakeGateway?.stop();
  await userService?.dispose();
  await aiGateway?.dispose();
  await fake?.stop();
}, 60_000);

beforeEach(() => {
  fake.state.behaviour = echo;
  fake.state.streamBehaviour = streamScript();
});

describe('GET /v1/models', () => {
  test('When the SDK lists models with a TE-explico API key, then every model the caller may name comes back in OpenAI’s list format', async () => {
    const page = await clientOf(gateway.baseUrl).models.list();

    expect(page.data.map((model) => model.id).sort()).toEqual([
      'explainer',
      'explainer@stable',
      'local-explainer@1',
    ]);
    expect(page.data.find((model) => model.id === 'explainer')).toEqual({
      id: 'explainer',
      object: 'model',
      created: 0,
      owned_by: 'te-explico',
    });
  });

  test('When a signed-in session’s access token is the apiKey, then it works too', async () => {
    const page = await clientOf(gateway.baseUrl, accessToken).models.list();

    expect(page.data.map((model) => model.id)).toContain('explainer');
  });

  test('When one model is retrieved, then it is returned; an unknown one is the SDK’s NotFoundError (model_not_found)', async () => {
    const client = clientOf(gateway.baseUrl);

    const model = await client.models.retrieve('explainer@stable');
    const missing = await rejection(client.models.retrieve('gpt-9'));

    expect(model).toMatchObject({ id: 'explainer@stable', object: 'model', owned_by: 'te-explico' });
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
    expect(missing.message).toContain("'gpt-9' does not exist");
  });
});

describe('POST /v1/chat/completions on the real ai-gateway-service (local model)', () => {
  test('When the SDK asks without streaming, then a chat.completion with the answer, the version that answered and the usage', async () => {
    const { data: completion, response } = await clientOf(gateway.baseUrl)
      .chat.completions.create(QUESTION)
      .withResponse();

    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(completion).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f-]{36}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'local-explainer@1',
    });
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(600);
    expect(completion.choices).toHaveLength(1);
    const [choice] = completion.choices;
    expect(choice).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant' } });
    // The local model quotes the developer message's line that matches the question.
    expect(choice.message.content).toContain("TE-explico's built-in offline model");
    expect(choice.message.content).toContain(
      '- "Error 404: the page you asked for was not found on this server."',
    );
    expect(choice.message.content).not.toContain('printer');
    const usage = completion.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  test('When the same question is streamed, then the chunks join into the same answer, and include_usage adds the same usage', async () => {
    const client = clientOf(gateway.baseUrl);
    const whole = await client.chat.completions.create(QUESTION);

    const stream = await client.chat.completions.create({
      ...QUESTION,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0].message.content);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(3);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks[0]).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion.chunk',
      model: 'local-explainer@1',
    });
    expect(chunks[0].id).not.toBe(whole.id); // a new inference: each HTTP request has its own request id
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(whole.usage);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  test('When streamed without include_usage, then no usage chunk and no usage member', async () => {
    const stream = await clientOf(gateway.baseUrl).chat.completions.create({ ...QUESTION, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
  });

  test('When max_tokens is small, then the answer is cut and finish_reason is "length"', async () => {
    const completion = await clientOf(gateway.baseUrl).chat.completions.create({
      ...QUESTION,
      max_tokens: 5,
    });

    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(5);
  });

  test('When the same Idempotency-Key is sent twice, then the second answer is the first one (same id); another key is a new inference', async () => {
    const client = clientOf(gateway.baseUrl);
    const key = `test-${Date.now()}`;

    const first = await client.chat.completions.create(QUESTION, { headers: { 'Idempotency-Key': key } });
    const again = await client.chat.completions.create(QUESTION, { headers: { 'Idempotency-Key': key } });
    const other = await client.chat.completions.create(QUESTION, {
      headers: { 'Idempotency-Key': `${key}-b` },
    });
    const bad = await rejection(
      client.chat.completions.create(QUESTION, { headers: { 'Idempotency-Key': 'has spaces' } }),
    );

    expect(again.id).toBe(first.id);
    expect(again.choices[0].message.content).toBe(first.choices[0].message.content);
    expect(other.id).not.toBe(first.id);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad.param).toBe('Idempotency-Key');
  });

  test('When an image goes to the text-only explainer, then the SDK raises BadRequestError saying the model cannot take images', async () => {
    const png = await renderTextImage(['Error 404']);

    const error = await rejection(
      clientOf(gateway.baseUrl).chat.completions.create({
        model: 'explainer',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
            ],
          },
        ],
      }),
    );

    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toContain('cannot take images');
  });

  test('When the model is unknown, then NotFoundError with code model_not_found and param model', async () => {
    const error = await rejection(
      clientOf(gateway.baseUrl).chat.completions.create({ ...QUESTION, model: 'gpt-9' }),
    );

    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });

  test('When the request is invalid, then the SDK raises BadRequestError naming the member', async () => {
    const client = clientOf(gateway.baseUrl);
    const user = { role: 'user' as const, content: 'hi' };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ n: 2 }, 'n', /one choice/],
      [
        { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] },
        'tools',
        /tools and function calling are not supported/,
      ],
      [{ stop: ['\n'] }, 'stop', /stop sequences/],
      [{ response_format: { type: 'json_object' } }, 'response_format', /only text/],
      [{ messages: [] }, 'messages', /./],
      [{ messages: [{ role: 'tool', content: 'x', tool_call_id: 'c' }] }, 'messages[0].role', /tools/],
      [{ messages: [user, { role: 'system', content: 'late' }] }, 'messages[1].role', /must come before/],
      [
        {
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/latest/meta-data' } }],
            },
          ],
        },
        'messages[0].content[0].image_url.url',
        /remote image URLs are not fetched.*data URL/,
      ],
      [
        {
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
            },
          ],
        },
        'messages[0].content[0].image_url.url',
        /not a valid image\/png image/,
      ],
      [{ max_tokens: 0 }, 'max_tokens', /./],
      // Checked by ai-gateway-service against the model (4,096), named as the body named it.
      [{ max_tokens: 100_000 }, 'max_tokens', /./],
      [{ temperature: 7 }, 'temperature', /./],
      [{ frobnicate: true }, 'frobnicate', /Unrecognized request argument supplied: frobnicate/],
    ];

    for (const [change, param, message] of cases) {
      const error = await rejection(
        client.chat.completions.create({ ...QUESTION, messages: [user], ...change } as never),
      );
      expect([param, error instanceof BadRequestError, error.status, error.type]).toEqual([
        param,
        true,
        400,
        'invalid_request_error',
      ]);
      expect(error.param).toBe(param);
      expect(error.message).toMatch(message);
    }
  });

  test('When temperature, seed and user are sent, then they are accepted (and ignored)', async () => {
    const completion = await clientOf(gateway.baseUrl).chat.completions.create({
      ...QUESTION,
      temperature: 0.2,
      seed: 7,
      user: 'someone',
    });

    expect(completion.choices[0].finish_reason).toBe('stop');
  });
});

describe('authentication and scope', () => {
  test('When the apiKey is not a valid key, then AuthenticationError (401, invalid_api_key)', async () => {
    for (const apiKey of ['tek_wrong', `tek_abcdefgh_${'A'.repeat(43)}`, 'sk-not-ours']) {
      const error = await rejection(clientOf(gateway.baseUrl, apiKey).chat.completions.create(QUESTION));

      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
      expect(error.headers?.get('www-authenticate')).toBe('Bearer');
    }
  });

  test('When the key lacks the explain scope, then PermissionDeniedError (403) on every route', async () => {
    const client = clientOf(gateway.baseUrl, profileKey);

    for (const attempt of [client.models.list(), client.chat.completions.create(QUESTION)]) {
      const error = await rejection(attempt);
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(error).toMatchObject({ status: 403, code: 'insufficient_scope' });
    }
  });

  test('When Infer runs, then ai-gateway-service sees the key’s owner as the caller', async () => {
    await clientOf(fakeGateway.baseUrl).chat.completions.create(QUESTION);

    expect(fake.state.infers.at(-1)!.principal).toMatchObject({ userId, authMethod: 'api_key' });
  });
});

describe('mapping onto te.ai.v1 (fake AI gateway)', () => {
  test('When system and developer messages lead, then they become the one system message; roles and max_completion_tokens carry over', async () => {
    await clientOf(fakeGateway.baseUrl).chat.completions.create({
      model: 'explainer',
      max_completion_tokens: 321,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Quote the screen.' }] },
        { role: 'user', content: 'First?' },
        { role: 'assistant', content: 'An answer.' },
        { role: 'user', content: 'Second?' },
      ],
    });

    const { request } = fake.state.infers.at(-1)!;
    expect(request.model).toBe('explainer');
    expect(request.maxOutputTokens).toBe(321);
    expect(request.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.messages.map((m) => [m.role, m.content.map((part) => part.text)])).toEqual([
      ['system', ['Be brief.', 'Quote the screen.']],
      ['user', ['First?']],
      ['assistant', ['An answer.']],
      ['user', ['Second?']],
    ]);
  });

  test('When an image data URL goes to a vision model, then its bytes and media type reach Infer', async () => {
    const png = await renderTextImage(['Save changes?']);

    const completion = await clientOf(fakeGateway.baseUrl).chat.completions.create({
      model: 'vision-explainer',
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image_url',
              image_url: { url: `data:image/png;base64,${png.toString('base64')}`, detail: 'high' },
            },
            { type: 'text', text: 'What does it ask?' },
          ],
        },
      ],
    });

    expect(completion.choices[0].message.content).toBe('echo: What does it ask?');
    expect(completion.model).toBe('vision-explainer@test-1');
    const [image, text] = fake.state.infers.at(-1)!.request.messages[0].content;
    expect(image.image?.mediaType).toBe('image/png');
    expect(Buffer.from(image.image!.data).equals(png)).toBe(true);
    expect(text.text).toBe('What does it ask?');
  });

  test('When the AI gateway is rate limited, then RateLimitError (429, rate_limit_exceeded) with Retry-After', async () => {
    fake.state.behaviour = async () => {
      throw new AppError('RATE_LIMITED', 'Token budget exhausted', { retryAfterSeconds: 7 });
    };

    const error = await rejection(clientOf(fakeGateway.baseUrl).chat.completions.create(QUESTION));

    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(error.headers?.get('retry-after')).toBe('7');
  });

  test('When every provider fails, then InternalServerError with status 503', async () => {
    fake.state.behaviour = async () => {
      throw new AppError('UNAVAILABLE', 'All providers failed');
    };

    const error = await rejection(clientOf(fakeGateway.baseUrl).chat.completions.create(QUESTION));

    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, type: 'server_error', code: 'service_unavailable' });
  });

  test('When the stream fails after some text, then the SDK’s iterator yields that text and then raises the error', async () => {
    fake.state.streamBehaviour = streamScript({
      deltas: ['Half ', 'more'],
      failAfter: 1,
      error: new AppError('UNAVAILABLE', 'All providers failed'),
    });

    const stream = await clientOf(fakeGateway.baseUrl).chat.completions.create({ ...QUESTION, stream: true });
    const texts: string[] = [];
    const failure = await rejection(
      (async () => {
        for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    );

    expect(texts.join('')).toBe('Half ');
    expect(failure).toBeInstanceOf(APIError);
    expect(failure).toMatchObject({ type: 'server_error', code: 'service_unavailable' });
  });

  test('When the client stops reading mid-stream, then the upstream InferStream call is cancelled', async () => {
    fake.state.streamBehaviour = streamScript({ deltas: ['first ', 'never'], hangAfter: 1 });
    const key = `abort-${Date.now()}`;

    const stream = await clientOf(fakeGateway.baseUrl).chat.completions.create(
      { ...QUESTION, stream: true },
      { headers: { 'Idempotency-Key': key } },
    );
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // the SDK aborts its request
    }

    await waitFor(() => fake.streamsFor(`openai:${key}`)[0]?.ended === true, {
      timeoutMs: 10_000,
      description: 'the upstream InferStream call to end',
    });
    expect(fake.streamsFor(`openai:${key}`)[0]!.cancelled).toBe(true);
  });
});

describe('the wire format (raw HTTP)', () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${explainKey}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });

  test('When streamed, then text/event-stream of data: lines that ends with data: [DONE]', async () => {
    const response = await post({ ...QUESTION, stream: true });
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(body.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
    const events = body.split('\n\n').filter(Boolean);
    expect(events.every((event) => event.startsWith('data: ') && !event.includes('\n'))).toBe(true);
    expect(JSON.parse(events[0].slice(6))).toMatchObject({ object: 'chat.completion.chunk' });
  });

  test('When a stream fails mid-way, then its last event is {"error": …} and there is no [DONE]', async () => {
    fake.state.streamBehaviour = streamScript({
      deltas: ['Half '],
      error: new AppError('UNAVAILABLE', 'down'),
    });

    const response = await fetch(`${fakeGateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${explainKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...QUESTION, stream: true }),
    });
    const events = (await response.text()).split('\n\n').filter(Boolean);

    expect(response.status).toBe(200);
    expect(events).not.toContain('data: [DONE]');
    expect(JSON.parse(events.at(-1)!.slice(6))).toEqual({
      error: { message: expect.any(String), type: 'server_error', param: null, code: 'service_unavailable' },
    });
  });

  test('When errors happen under /v1, then they are OpenAI’s shape, never the envelope (401, 404, 415, 400 malformed JSON)', async () => {
    const unauthenticated = await fetch(`${gateway.baseUrl}/v1/models`);
    const unknownPath = await fetch(`${gateway.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${explainKey}` },
    });
    const notJson = await post(undefined, { 'content-type': 'text/plain' });
    const malformed = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${explainKey}`, 'content-type': 'application/json' },
      body: '{"model": ',
    });

    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    expect(unknownPath.status).toBe(404);
    expect(await unknownPath.json()).toEqual({
      error: {
        message: 'Invalid URL (POST /v1/completions)',
        type: 'invalid_request_error',
        param: null,
        code: 'unknown_url',
      },
    });
    expect(notJson.status).toBe(415);
    expect(((await notJson.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  test('When a body is larger than the rest of the API allows (inline images), then /v1 still takes it', async () => {
    const screen = Array.from({ length: 4_000 }, (_, i) => `Line ${i} of the screen text.`).join('\n');

    const response = await post({
      model: 'explainer',
      messages: [{ role: 'user', content: `${screen}\n\nWhat is on line 3999?` }],
    });

    expect(screen.length).toBeGreaterThan(100_000); // JSON_BODY_LIMIT of the rest of the API
    expect(response.status).toBe(200);
  });
});
