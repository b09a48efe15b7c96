import { randomUUID } from 'node:crypto';
import type { ServiceTestEnv } from '@te/testing';
import { waitFor } from '@te/testing';
import { callUnary } from '@te/grpc';
import { LOCAL_PREFACE } from '../src/providers/index.js';
import {
  as,
  createAiGatewayEnv,
  failure,
  infer,
  inferStream,
  observeEvents,
  startAiGateway,
  textRequest,
  userPrincipal,
  type RunningAiGateway,
} from './support/ai-gateway.harness.js';

const SCREEN = [
  'Settings > Storage',
  'Error 28: No space left on device. The backup could not be written.',
  'Free up at least 2 GB of disk space and try the backup again.',
  'Theme: dark',
].join('\n');
const QUESTION = 'Why could the backup not be written to the disk?';

describe('ai-gateway-service inference on the seeded local model', () => {
  let env: ServiceTestEnv;
  let service: RunningAiGateway;
  let events: Awaited<ReturnType<typeof observeEvents>>;
  const user = userPrincipal(randomUUID());

  beforeAll(async () => {
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.inference.*']);
    service = await startAiGateway(env);
  });

  afterAll(async () => {
    await service?.stop();
    await events?.close();
    await env?.cleanup();
  });

  const eventsOf = (type: string, requestId: string) =>
    events.received.filter((event) => event.type === type && event.data['request_id'] === requestId);

  it('When Infer names the seeded "explainer" alias, then the local model answers from the context and the completion is published', async () => {
    const requestId = randomUUID();
    const response = await infer(service, user, {
      ...textRequest(requestId, 'explainer', QUESTION, `Text read from the user's screenshot:\n${SCREEN}`),
      metadata: { session_id: 's-1', message_id: 'm-1' },
    });

    expect(response.text.startsWith(LOCAL_PREFACE)).toBe(true);
    expect(response.text).toContain('"The backup could not be written."');
    expect(response.text).not.toContain('Theme: dark');
    expect(response).toMatchObject({
      modelVersion: 'local-explainer@1',
      provider: 'local',
      finishReason: 'stop',
      cached: false,
      usage: { costUsd: '0.000000', estimated: true },
    });
    expect(response.usage!.inputTokens).toBeGreaterThan(0);
    expect(response.usage!.outputTokens).toBeGreaterThan(0);

    const [completed] = await waitFor(() => {
      const found = eventsOf('ai.inference.completed', requestId);
      return found.length ? found : undefined;
    });
    expect(completed.subject).toBe(user.userId);
    expect(completed.source).toBe('ai-gateway-service');
    expect(completed.data).toEqual({
      user_id: user.userId,
      model: 'local-explainer@1',
      input_tokens: response.usage!.inputTokens,
      output_tokens: response.usage!.outputTokens,
      cost_usd: '0.000000',
      completed_at: expect.any(String),
      inference_id: response.inferenceId,
      request_id: requestId,
      provider: 'local',
      latency_ms: Number(response.latencyMs),
      finish_reason: 'stop',
      estimated_usage: true,
      metadata: { session_id: 's-1', message_id: 'm-1' },
    });
    // user-service's consumer contract (docs/events.md): a decimal with at most 6 fraction digits.
    expect(completed.data['cost_usd']).toMatch(/^(0|[1-9]\d{0,11})(\.\d{1,6})?$/);
    expect(Number.isNaN(Date.parse(completed.data['completed_at'] as string))).toBe(false);
  });

  it('When InferStream is called, then it sends started, deltas that join to the answer, and completed', async () => {
    const requestId = randomUUID();
    const { events: stream, error } = await inferStream(
      service,
      user,
      textRequest(requestId, 'explainer@stable', QUESTION, SCREEN),
    );

    expect(error).toBeUndefined();
    expect(stream[0].started).toMatchObject({ modelVersion: 'local-explainer@1', provider: 'local' });
    const deltas = stream.slice(1, -1).map((event) => event.delta!.text);
    expect(deltas.length).toBeGreaterThan(3);
    const completed = stream.at(-1)!.completed!;
    expect(deltas.join('')).toBe(completed.text);
    expect(completed.text).toContain('"Free up at least 2 GB of disk space and try the backup again."');
    expect(completed.inferenceId).toBe(stream[0].started!.inferenceId);
    await waitFor(() => eventsOf('ai.inference.completed', requestId).length === 1);
  });

  it('When the same request_id is sent twice by the same user, then the stored answer is returned and only one completion is published', async () => {
    const requestId = randomUUID();
    const request = textRequest(requestId, 'explainer', QUESTION, SCREEN);
    const first = await infer(service, user, request);
    const second = await infer(service, user, request);
    const streamed = await inferStream(service, user, request);

    expect(second).toEqual(first);
    expect(streamed.events.at(-1)!.completed).toEqual(first);
    expect(streamed.events[0].started!.inferenceId).toBe(first.inferenceId);

    // Another user's identical request_id is a different request.
    const other = await infer(service, userPrincipal(randomUUID()), request);
    expect(other.inferenceId).not.toBe(first.inferenceId);

    // A later request's event arriving proves the relay has passed ours: still exactly one.
    const marker = randomUUID();
    await infer(service, user, textRequest(marker, 'explainer', QUESTION, SCREEN));
    await waitFor(() => eventsOf('ai.inference.completed', marker).length === 1);
    expect(eventsOf('ai.inference.completed', requestId)).toHaveLength(2); // ours + the other user's
    expect(
      eventsOf('ai.inference.completed', requestId).filter((event) => event.data['user_id'] === user.userId),
    ).toHaveLength(1);
  });

  it('When the request is invalid, then VALIDATION_FAILED names every bad field', async () => {
    const error = await failure(
      infer(service, user, {
        requestId: '',
        model: '',
        maxOutputTokens: -1,
        messages: [
          { role: 'user', content: [{ text: 'hi' }] },
          { role: 'system', content: [] },
          { role: 'robot', content: [{ image: { mediaType: 'image/gif', data: Buffer.from('GIF89a') } }] },
        ],
        metadata: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v'])),
      }),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((field) => field.field).sort()).toEqual(
      [
        'request_id',
        'model',
        'max_output_tokens',
        'metadata',
        'messages[1].role',
        'messages[1].content',
        'messages[2].role',
        'messages[2].content[0].image',
        'messages[2].content[0].image.media_type',
      ].sort(),
    );
  });

  it('When max_output_tokens exceeds what the model gives, then VALIDATION_FAILED names it', async () => {
    const error = await failure(
      infer(service, user, { ...textRequest(randomUUID(), 'explainer', QUESTION), maxOutputTokens: 100_000 }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields).toEqual([
      { field: 'max_output_tokens', message: 'must be at most 4096 for "explainer"' },
    ]);
  });

  it('When the model is unknown, then NOT_FOUND, and nothing is published', async () => {
    const requestId = randomUUID();
    const error = await failure(infer(service, user, textRequest(requestId, 'no-such-model@1', QUESTION)));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('no-such-model@1');
    const streamed = await inferStream(service, user, textRequest(randomUUID(), 'nope', QUESTION));
    expect(streamed.events).toEqual([]);
    expect(streamed.error?.code).toBe('NOT_FOUND');
  });

  it('When an image goes to a model without vision, then PRECONDITION_FAILED names the model', async () => {
    const error = await failure(
      infer(service, user, {
        requestId: randomUUID(),
        model: 'explainer',
        messages: [
          {
            role: 'user',
            content: [
              { text: 'What is this?' },
              { image: { mediaType: 'image/png', data: Buffer.from([0x89, 0x50]) } },
            ],
          },
        ],
      }),
    );
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toContain('"explainer"');
    expect(error.message).toContain('images');
  });

  it('When there is no principal, then every RPC is UNAUTHENTICATED', async () => {
    expect(
      (await failure(infer(service, undefined, textRequest(randomUUID(), 'explainer', QUESTION)))).code,
    ).toBe('UNAUTHENTICATED');
    expect(
      (await inferStream(service, undefined, textRequest(randomUUID(), 'explainer', QUESTION))).error?.code,
    ).toBe('UNAUTHENTICATED');
    expect((await failure(as(undefined, () => callUnary(service.catalog, 'ListModels', {})))).code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('When ListModels is called, then the seeded aliases and version are listed with their capabilities', async () => {
    const { models } = await as(user, () => callUnary(service.catalog, 'ListModels', {}));
    const capabilities = { vision: false, streaming: true, contextWindow: 32_768, maxOutputTokens: 4_096 };
    expect(models).toEqual([
      { name: 'explainer', kind: 'alias', capabilities, deprecatedAt: '', retiresAt: '' },
      { name: 'explainer@stable', kind: 'alias', capabilities, deprecatedAt: '', retiresAt: '' },
      { name: 'local-explainer@1', kind: 'version', capabilities, deprecatedAt: '', retiresAt: '' },
    ]);
  });
});
