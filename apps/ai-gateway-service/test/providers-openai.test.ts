import { inspect } from 'node:util';
import { captureLogger } from '@te/platform';
import { OpenAiCompatibleProvider } from '../src/providers/openai.provider.js';
import { ProviderError } from '../src/providers/provider-error.js';
import type { InferenceRequest } from '../src/providers/provider.js';
import { estimateInputTokens } from '../src/providers/token-estimate.js';
import {
  awkwardCuts,
  drain,
  eventually,
  sendJson,
  sseStartHeaders,
  startLoopbackServer,
  writeInPieces,
  type Handler,
  type LoopbackServer,
} from './support/loopback-server.js';

const API_KEY = 'sk-test-4f9c1a7e2b8d4c6fa0e3b5d7c9e1f2a4';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

const request: InferenceRequest = {
  model: 'gpt-4o-mini',
  maxOutputTokens: 200,
  temperature: 0.2,
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'Explain the screen.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What does this error mean?' },
        { type: 'image', mediaType: 'image/png', data: PNG },
      ],
    },
  ],
};

const completion = (overrides: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'It means the disk is full.' },
      finish_reason: 'length',
    },
  ],
  usage: { prompt_tokens: 812, completion_tokens: 9, total_tokens: 821 },
  ...overrides,
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\r\n\r\n`;

describe('OpenAI-compatible provider', () => {
  let server: LoopbackServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function providerFor(
    handler: Handler,
    settings: { apiVersion?: string; timeoutMs?: number; path?: string } = {},
  ) {
    server = await startLoopbackServer(handler);
    const log = captureLogger('ai-gateway-service');
    const provider = new OpenAiCompatibleProvider(
      {
        id: 'openai',
        kind: 'openai',
        baseUrl: `${server.origin}${settings.path ?? '/v1'}`,
        apiKey: API_KEY,
        timeoutMs: settings.timeoutMs ?? 5_000,
        maxConcurrency: 4,
        apiVersion: settings.apiVersion,
      },
      { logger: log.logger },
    );
    return { provider, log, server };
  }

  it('When a completion succeeds, then the request has the chat-completions wire shape and the answer is mapped', async () => {
    const { provider, server } = await providerFor((_, response) => sendJson(response, 200, completion()));

    const result = await provider.complete(request);

    expect(result).toMatchObject({
      text: 'It means the disk is full.',
      finishReason: 'length',
      usage: { inputTokens: 812, outputTokens: 9, estimated: false },
      providerModel: 'gpt-4o-mini-2024-07-18',
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [received] = server.requests;
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/v1/chat/completions');
    expect(received.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(JSON.parse(received.body)).toEqual({
      model: 'gpt-4o-mini',
      max_tokens: 200,
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'Explain the screen.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What does this error mean?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
          ],
        },
      ],
    });
  });

  it('When the server reports no usage, then usage is estimated and marked so', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 200, completion({ usage: undefined, model: undefined })),
    );

    const result = await provider.complete({ ...request, maxOutputTokens: 0 });

    expect(result.usage).toEqual({
      inputTokens: estimateInputTokens(request.messages),
      outputTokens: Math.ceil('It means the disk is full.'.length / 4),
      estimated: true,
    });
    expect(result.providerModel).toBe('gpt-4o-mini');
  });

  it('When an api-version is configured, then it is sent Azure-style: query parameter and api-key header', async () => {
    const { provider, server } = await providerFor((_, response) => sendJson(response, 200, completion()), {
      apiVersion: '2024-10-21',
      path: '/openai/deployments/explainer',
    });

    await provider.complete(request);

    const [received] = server.requests;
    expect(received.url).toBe('/openai/deployments/explainer/chat/completions?api-version=2024-10-21');
    expect(received.headers['api-key']).toBe(API_KEY);
    expect(received.headers.authorization).toBeUndefined();
  });

  it('When the answer streams in pieces cut mid-character and between CR and LF, then the deltas and final usage arrive intact', async () => {
    const payload =
      ': keep-alive\r\n\r\n' +
      chunk({ role: 'assistant', content: '' }) +
      chunk({ content: 'Le disque ' }) +
      chunk({ content: 'est plein — ' }) +
      chunk({ content: 'libérez 😀 de la place.' }) +
      chunk({}, 'stop') +
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 31, completion_tokens: 12 } })}\r\n\r\n` +
      'data: [DONE]\r\n\r\n';
    const cuts = awkwardCuts(payload);
    const { provider, server } = await providerFor(async (_, response) => {
      sseStartHeaders(response);
      await writeInPieces(response, payload, cuts);
      response.end();
    });

    const { events, error } = await drain(provider.stream(request));

    expect(error).toBeUndefined();
    expect(cuts.length).toBeGreaterThan(10);
    const deltas = events.filter((event) => event.type === 'delta');
    expect(deltas.map((event) => event.text)).toEqual([
      'Le disque ',
      'est plein — ',
      'libérez 😀 de la place.',
    ]);
    expect(events.at(-1)).toEqual({
      type: 'done',
      finishReason: 'stop',
      usage: { inputTokens: 31, outputTokens: 12, estimated: false },
    });
    expect(JSON.parse(server.requests[0].body)).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(server.requests[0].headers.accept).toBe('text/event-stream');
  });

  it('When a stream carries no usage chunk, then the done event has estimated usage', async () => {
    const { provider } = await providerFor((_, response) => {
      sseStartHeaders(response);
      response.end(chunk({ content: 'abcdefgh' }) + chunk({}, 'length') + 'data: [DONE]\n\n');
    });

    const { events } = await drain(provider.stream(request));

    expect(events.at(-1)).toEqual({
      type: 'done',
      finishReason: 'length',
      usage: { inputTokens: estimateInputTokens(request.messages), outputTokens: 2, estimated: true },
    });
  });

  it('When the provider answers 429 with Retry-After in seconds, then RATE_LIMITED carries the delay and is retryable', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '7' }),
    );

    const error = await provider.complete(request).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 7,
      retryAfterMs: 7000,
      retryable: true,
    });
  });

  it('When the provider answers 429 with Retry-After as an HTTP date, then the delay is computed from it', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 429, {}, { 'retry-after': new Date(Date.now() + 120_000).toUTCString() }),
    );

    const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ProviderError;

    expect(error.code).toBe('RATE_LIMITED');
    // HTTP dates have whole seconds: between 118 and 120 s from now.
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(120);
  });

  it('When the provider sends retry-after-ms, then that precise delay wins', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 429, {}, { 'retry-after': '3', 'retry-after-ms': '1500' }),
    );

    const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ProviderError;

    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1500, retryAfterSeconds: 2 });
  });

  it.each([
    [500, 'UNAVAILABLE', true],
    [503, 'UNAVAILABLE', true],
    [400, 'VALIDATION_FAILED', false],
    [422, 'VALIDATION_FAILED', false],
    [404, 'NOT_FOUND', false],
    [408, 'DEADLINE_EXCEEDED', true],
    [401, 'UNAVAILABLE', false],
    [403, 'UNAVAILABLE', false],
  ])(
    'When the provider answers %i, then the error is %s (retryable: %s)',
    async (status, code, retryable) => {
      const { provider } = await providerFor((_, response) =>
        sendJson(response, status, { error: { message: `Something about ${API_KEY}`, type: 'x' } }),
      );

      const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ProviderError;

      expect(error).toBeInstanceOf(ProviderError);
      expect({ code: error.code, retryable: error.retryable, upstreamStatus: error.upstreamStatus }).toEqual({
        code,
        retryable,
        upstreamStatus: status,
      });
      expect(error.message).not.toContain(API_KEY);
      if (status === 401 || status === 403) {
        expect(error.reason).toBe('provider_auth');
        expect(error.message).not.toMatch(/401|403|key|auth/i);
      }
    },
  );

  it('When the provider rejects a request, then its own message reaches the caller, sanitised', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 400, {
        error: {
          message:
            "This model's maximum context length is 128000 tokens.\n  Got key sk-proj-abcdef1234567890",
        },
      }),
    );

    const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ProviderError;

    expect(error.message).toBe(
      "The model provider rejected the request: This model's maximum context length is 128000 tokens. Got key [REDACTED]",
    );
  });

  it('When the server does not answer before the deadline, then DEADLINE_EXCEEDED comes promptly and the connection is closed', async () => {
    const { provider, server } = await providerFor(() => undefined);
    const started = Date.now();

    const error = (await provider
      .complete(request, { deadline: Date.now() + 150 })
      .catch((caught: unknown) => caught)) as ProviderError;

    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await eventually(
      () => server.requests[0]?.clientGone === true,
      'the provider to see the connection closed',
    );
  });

  it('When the configured timeout is shorter than the deadline, then the timeout applies', async () => {
    const { provider } = await providerFor(() => undefined, { timeoutMs: 100 });

    const error = (await provider
      .complete(request, { deadline: new Date(Date.now() + 60_000) })
      .catch((caught: unknown) => caught)) as ProviderError;

    expect(error.code).toBe('DEADLINE_EXCEEDED');
  });

  it('When the caller aborts a slow call, then the fetch is aborted at once and the error is not retryable', async () => {
    const { provider, server } = await providerFor(() => undefined);
    const controller = new AbortController();

    const pending = provider
      .complete(request, { signal: controller.signal })
      .catch((caught: unknown) => caught);
    await eventually(() => server.requests.length === 1, 'the request to reach the provider');
    const aborted = Date.now();
    controller.abort();
    const error = (await pending) as ProviderError;

    expect(Date.now() - aborted).toBeLessThan(500);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'cancelled', retryable: false });
    await eventually(() => server.requests[0].clientGone, 'the provider to see the connection closed');
  });

  it('When the stream breaks mid-way (socket destroyed), then the deltas so far arrive and UNAVAILABLE is flagged partial', async () => {
    const { provider } = await providerFor(async (_, response, raw) => {
      sseStartHeaders(response);
      await writeInPieces(response, chunk({ content: 'The disk ' }) + chunk({ content: 'is' }), []);
      raw.socket.destroy();
    });

    const { events, error } = await drain(provider.stream(request));

    expect(events).toEqual([
      { type: 'delta', text: 'The disk ' },
      { type: 'delta', text: 'is' },
    ]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', partial: true, retryable: true });
  });

  it('When the stream ends cleanly but without a finish or [DONE], then it is reported as truncated', async () => {
    const { provider } = await providerFor((_, response) => {
      sseStartHeaders(response);
      response.end(chunk({ content: 'Half an ans' }));
    });

    const { events, error } = await drain(provider.stream(request));

    expect(events).toHaveLength(1);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', partial: true, reason: 'stream_truncated' });
  });

  it('When a stream goes silent for longer than the timeout, then DEADLINE_EXCEEDED ends it', async () => {
    const { provider } = await providerFor(
      async (_, response) => {
        sseStartHeaders(response);
        await writeInPieces(response, chunk({ content: 'Thinking' }), []);
      },
      { timeoutMs: 150 },
    );

    const { events, error } = await drain(provider.stream(request));

    expect(events).toEqual([{ type: 'delta', text: 'Thinking' }]);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', partial: true });
  });

  it('When a stream reports an error event after the headers, then it fails with UNAVAILABLE', async () => {
    const { provider } = await providerFor((_, response) => {
      sseStartHeaders(response);
      response.end(
        `data: ${JSON.stringify({ error: { message: 'engine overloaded', type: 'server_error' } })}\n\n`,
      );
    });

    const { error } = await drain(provider.stream(request));

    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      partial: false,
      message: 'The model provider failed while answering: engine overloaded',
    });
  });

  it('When nothing listens at the base URL, then UNAVAILABLE is retryable', async () => {
    const { provider, server } = await providerFor(() => undefined);
    await server.close();

    const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ProviderError;

    expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'network', retryable: true });
  });

  it('When the request is invalid, then VALIDATION_FAILED lists the fields and the provider is not called', async () => {
    const { provider, server } = await providerFor((_, response) => sendJson(response, 200, completion()));

    const error = await provider
      .complete({
        model: 'gpt-4o-mini',
        maxOutputTokens: -1,
        messages: [
          { role: 'system', content: [{ type: 'image', mediaType: 'image/png', data: PNG }] },
          { role: 'user', content: [{ type: 'image', mediaType: 'image/gif' as 'image/png', data: PNG }] },
        ],
      })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((error as ProviderError).fields?.map((field) => field.field)).toEqual([
      'max_output_tokens',
      'messages[0].content[0].image',
      'messages[1].content[0].image.media_type',
    ]);
    expect(server.requests).toHaveLength(0);
  });

  it('When calls fail in every way, then the API key appears in no error and no log line', async () => {
    let mode = 0;
    const { provider, log } = await providerFor(async (_, response, raw) => {
      const echo = { error: { message: `Incorrect API key provided: ${API_KEY}` } };
      if (mode === 0) return sendJson(response, 401, echo);
      if (mode === 1) return sendJson(response, 400, echo);
      if (mode === 2) return sendJson(response, 429, echo, { 'retry-after': '1' });
      if (mode === 3) return sendJson(response, 500, echo);
      sseStartHeaders(response);
      await writeInPieces(response, `data: ${JSON.stringify(echo)}\n\n` + chunk({ content: API_KEY }), []);
      raw.socket.destroy();
    });

    const errors: unknown[] = [];
    for (mode = 0; mode < 4; mode++)
      errors.push(await provider.complete(request).catch((caught: unknown) => caught));
    errors.push((await drain(provider.stream(request))).error);
    log.logger.error('Inference failed', { error: errors[0], provider });

    expect(errors).toHaveLength(5);
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      expect(
        JSON.stringify({ message: (error as Error).message, details: (error as ProviderError).details }),
      ).not.toContain(API_KEY);
    }
    expect(log.lines().filter((line) => line.message === 'Model provider call failed')).toHaveLength(5);
    expect(log.text()).not.toContain(API_KEY);
    // The key sits in a private field: inspecting (or logging) the adapter does not reveal it.
    expect(inspect(provider, { depth: 4 })).not.toContain(API_KEY);
  });
});
