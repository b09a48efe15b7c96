import { captureLogger } from '@te/platform';
import { AnthropicProvider } from '../src/providers/anthropic.provider.js';
import { ProviderError } from '../src/providers/provider-error.js';
import type { InferenceRequest } from '../src/providers/provider.js';
import {
  awkwardCuts,
  drain,
  sendJson,
  sseStartHeaders,
  startLoopbackServer,
  writeInPieces,
  type Handler,
  type LoopbackServer,
} from './support/loopback-server.js';

const API_KEY = 'sk-ant-api03-Zq8v1m2n3b4v5c6x7z8a9s0d1f2g3h4j5k6l';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]);

const request: InferenceRequest = {
  model: 'claude-sonnet-4-5',
  maxOutputTokens: 0,
  messages: [
    { role: 'system', content: [{ type: 'text', text: 'Screen text: Disk full.' }] },
    {
      role: 'user',
      content: [
        { type: 'image', mediaType: 'image/jpeg', data: JPEG },
        { type: 'text', text: 'Why?' },
      ],
    },
  ],
};

const event = (name: string, data: Record<string, unknown>) =>
  `event: ${name}\r\ndata: ${JSON.stringify({ type: name, ...data })}\r\n\r\n`;

const fullStream =
  event('message_start', {
    message: {
      id: 'msg_1',
      model: 'claude-sonnet-4-5-20250929',
      usage: { input_tokens: 1450, output_tokens: 1 },
    },
  }) +
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
  event('ping', {}) +
  event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Das Laufwerk ' } }) +
  event('content_block_delta', {
    index: 0,
    delta: { type: 'text_delta', text: 'ist voll – lösche 🗑️ Dateien.' },
  }) +
  event('content_block_stop', { index: 0 }) +
  event('message_delta', {
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 17 },
  }) +
  event('message_stop', {});

describe('Anthropic provider', () => {
  let server: LoopbackServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function providerFor(handler: Handler) {
    server = await startLoopbackServer(handler);
    const log = captureLogger('ai-gateway-service');
    const provider = new AnthropicProvider(
      {
        id: 'anthropic',
        kind: 'anthropic',
        baseUrl: server.origin,
        apiKey: API_KEY,
        timeoutMs: 5_000,
        maxConcurrency: 4,
      },
      { logger: log.logger },
    );
    return { provider, server, log };
  }

  it('When a message completes, then the request has the Messages API shape and the answer is mapped', async () => {
    const { provider, server } = await providerFor((_, response) =>
      sendJson(response, 200, {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'text', text: 'The disk ' },
          { type: 'text', text: 'is full.' },
        ],
        stop_reason: 'max_tokens',
        usage: { input_tokens: 1200, output_tokens: 4096, cache_read_input_tokens: 100 },
      }),
    );

    const result = await provider.complete(request);

    expect(result).toMatchObject({
      text: 'The disk is full.',
      finishReason: 'length',
      usage: { inputTokens: 1300, outputTokens: 4096, estimated: false },
      providerModel: 'claude-sonnet-4-5-20250929',
    });
    const [received] = server.requests;
    expect(received.url).toBe('/v1/messages');
    expect(received.headers['x-api-key']).toBe(API_KEY);
    expect(received.headers['anthropic-version']).toBe('2023-06-01');
    expect(received.headers.authorization).toBeUndefined();
    expect(JSON.parse(received.body)).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'Screen text: Disk full.',
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/jpeg', data: JPEG.toString('base64') },
            },
            { type: 'text', text: 'Why?' },
          ],
        },
      ],
    });
  });

  it('When the event stream arrives cut at awkward bytes, then deltas, stop reason and usage are assembled', async () => {
    const { provider, server } = await providerFor(async (_, response) => {
      sseStartHeaders(response);
      await writeInPieces(response, fullStream, awkwardCuts(fullStream));
      response.end();
    });

    const { events, error } = await drain(provider.stream({ ...request, maxOutputTokens: 300 }));

    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'delta', text: 'Das Laufwerk ' },
      { type: 'delta', text: 'ist voll – lösche 🗑️ Dateien.' },
      {
        type: 'done',
        finishReason: 'stop',
        usage: { inputTokens: 1450, outputTokens: 17, estimated: false },
      },
    ]);
    expect(JSON.parse(server.requests[0].body)).toMatchObject({ stream: true, max_tokens: 300 });
  });

  it('When an error event arrives mid-stream, then the stream fails UNAVAILABLE, partial, with the sanitised reason', async () => {
    const broken =
      fullStream.slice(0, fullStream.indexOf('event: content_block_stop')) +
      event('error', { error: { type: 'overloaded_error', message: `Overloaded (key ${API_KEY})` } });
    const { provider, log } = await providerFor((_, response) => {
      sseStartHeaders(response);
      response.end(broken);
    });

    const { events, error } = await drain(provider.stream(request));

    expect(events.filter((item) => item.type === 'delta')).toHaveLength(2);
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      partial: true,
      retryable: true,
      reason: 'overloaded',
    });
    expect((error as Error).message).not.toContain(API_KEY);
    expect(log.text()).not.toContain(API_KEY);
  });

  it('When the stream closes before message_stop, then it is UNAVAILABLE and partial', async () => {
    const { provider } = await providerFor((_, response) => {
      sseStartHeaders(response);
      response.end(fullStream.slice(0, fullStream.indexOf('event: message_delta')));
    });

    const { error } = await drain(provider.stream(request));

    expect(error).toMatchObject({ code: 'UNAVAILABLE', partial: true, reason: 'stream_truncated' });
  });

  it('When Anthropic answers 429 with a Retry-After date, then RATE_LIMITED carries the delay', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(
        response,
        429,
        {
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message: 'Number of request tokens has exceeded your rate limit',
          },
        },
        { 'retry-after': new Date(Date.now() + 30_000).toUTCString() },
      ),
    );

    const error = (await provider.complete(request).catch((caught: unknown) => caught)) as ProviderError;

    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it('When Anthropic is overloaded (529), then the error is UNAVAILABLE and retryable', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    );

    const error = await provider.complete(request).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, upstreamStatus: 529 });
  });

  it('When Anthropic rejects the request (400), then its message is passed on as VALIDATION_FAILED', async () => {
    const { provider } = await providerFor((_, response) =>
      sendJson(response, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'messages: at least one message is required' },
      }),
    );

    const error = await provider.complete(request).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'The model provider rejected the request: messages: at least one message is required',
    });
  });
});
