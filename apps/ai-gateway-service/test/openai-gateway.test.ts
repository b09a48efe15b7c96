import { randomUUID } from 'node:crypto';
import { callUnary } from '@te/grpc';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { RegistryRepository } from '../src/db/registry.repository.js';
import type { NewModelVersion } from '../src/domain/registry.js';
import {
  sendJson,
  sseStartHeaders,
  startLoopbackServer,
  type LoopbackServer,
} from './support/loopback-server.js';
import {
  as,
  createAiGatewayEnv,
  failure,
  infer,
  inferStream,
  observeEvents,
  openDb,
  startAiGateway,
  textRequest,
  userPrincipal,
  type RunningAiGateway,
} from './support/ai-gateway.harness.js';

const STABLE: NewModelVersion = {
  model: 'fake-gpt',
  version: '2026-01',
  providerId: 'fake',
  providerModel: 'gpt-4o-mini',
  parameters: { temperature: 0.2 },
  capabilities: { vision: true, streaming: true, contextWindow: 128_000, maxOutputTokens: 16_384 },
  inputPricePerMillion: '0.15',
  outputPricePerMillion: '0.6',
};
const CANARY: NewModelVersion = {
  ...STABLE,
  version: 'canary',
  providerModel: 'gpt-4o-mini-canary',
  parameters: {},
  capabilities: { vision: false, streaming: true, contextWindow: 64_000, maxOutputTokens: 8_192 },
  inputPricePerMillion: '2.5',
  outputPricePerMillion: '10',
};

interface ChatBody {
  model: string;
  stream?: boolean;
  temperature?: number;
  messages: { role: string; content: string | { type: string; text?: string }[] }[];
}

const lastUserText = (body: ChatBody) => {
  const content = body.messages.at(-1)!.content;
  return typeof content === 'string' ? content : content.map((part) => part.text ?? '').join(' ');
};
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe('ai-gateway-service on an OpenAI-compatible provider', () => {
  let env: ServiceTestEnv;
  let server: LoopbackServer;
  let service: RunningAiGateway;
  let events: Awaited<ReturnType<typeof observeEvents>>;
  const draws: number[] = [];
  const user = userPrincipal(randomUUID());

  beforeAll(async () => {
    // Plays the provider: "hang" streams one chunk and stays silent, "slow" never answers, "fail" is a 500.
    server = await startLoopbackServer((request, response) => {
      const body = JSON.parse(request.body) as ChatBody;
      const text = lastUserText(body);
      if (text.includes('fail')) return sendJson(response, 500, { error: { message: 'overloaded' } });
      if (text.includes('slow')) return;
      if (!body.stream)
        return sendJson(response, 200, {
          object: 'chat.completion',
          model: `${body.model}-2024-07-18`,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: `Answer from ${body.model}.` },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 812, completion_tokens: 9, total_tokens: 821 },
        });
      sseStartHeaders(response);
      response.write(chunk({ role: 'assistant', content: 'It means ' }));
      if (text.includes('hang')) return;
      response.write(chunk({ content: 'the disk ' }));
      response.write(chunk({ content: 'is full.' }, 'stop'));
      response.write(
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 40, completion_tokens: 6 } })}\n\n`,
      );
      response.end('data: [DONE]\n\n');
    });
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.inference.*']);
    service = await startAiGateway(
      env,
      {
        AI_PROVIDERS: 'local,fake',
        AI_PROVIDER_FAKE_KIND: 'openai',
        AI_PROVIDER_FAKE_BASE_URL: `${server.origin}/v1`,
        AI_PROVIDER_FAKE_TIMEOUT_MS: '5000',
        // Long, so that only ai.registry.changed can explain a replica seeing another's write at once.
        REGISTRY_REFRESH_MS: '600000',
      },
      { random: () => draws.shift() ?? 0 },
    );
    await service.app.registry.createVersion(STABLE);
    await service.app.registry.createVersion(CANARY);
    await service.app.registry.setAliasTargets('chat', [
      { version: 'fake-gpt@2026-01', weight: 90 },
      { version: 'fake-gpt@canary', weight: 10 },
    ]);
    await waitFor(async () => {
      const { models } = await as(user, () => callUnary(service.catalog, 'ListModels', {}));
      return models.some((model) => model.name === 'chat');
    });
  });

  afterAll(async () => {
    await service?.stop();
    await events?.close();
    await server?.close();
    await env?.cleanup();
  });

  const eventsOf = (type: string, requestId: string) =>
    events.received.filter((event) => event.type === type && event.data['request_id'] === requestId);
  const oneEvent = (type: string, requestId: string) =>
    waitFor(() => {
      const found = eventsOf(type, requestId);
      return found.length === 1 ? found[0] : undefined;
    });

  it('When the alias draws each target, then the chosen version answers and the cost is computed exactly from its prices', async () => {
    draws.push(0.5, 0.95);
    const stableId = randomUUID();
    const canaryId = randomUUID();
    const stable = await infer(service, user, textRequest(stableId, 'chat', 'What does error 28 mean?'));
    const canary = await infer(service, user, textRequest(canaryId, 'chat', 'What does error 28 mean?'));

    expect(stable).toMatchObject({
      modelVersion: 'fake-gpt@2026-01',
      provider: 'fake',
      text: 'Answer from gpt-4o-mini.',
      // 812 × $0.15/M + 9 × $0.60/M = 127.2 µ$ → $0.000127
      usage: { inputTokens: 812, outputTokens: 9, costUsd: '0.000127', estimated: false },
    });
    // 812 × $2.50/M + 9 × $10/M = 2,120 µ$
    expect(canary).toMatchObject({ modelVersion: 'fake-gpt@canary', usage: { costUsd: '0.002120' } });
    const sent = server.requests.slice(-2).map((request) => JSON.parse(request.body) as ChatBody);
    expect(sent.map((body) => body.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini-canary']);
    expect(sent[0].temperature).toBe(0.2); // the version's parameters

    const completed = await oneEvent('ai.inference.completed', stableId);
    expect(completed.data).toMatchObject({
      user_id: user.userId,
      model: 'fake-gpt@2026-01',
      input_tokens: 812,
      output_tokens: 9,
      cost_usd: '0.000127',
      provider: 'fake',
      inference_id: stable.inferenceId,
    });
    expect((await oneEvent('ai.inference.completed', canaryId)).data['cost_usd']).toBe('0.002120');
  });

  it('When the same request_id comes again, then the provider is called once and one completion is published', async () => {
    const requestId = randomUUID();
    const before = server.requests.length;
    const request = textRequest(requestId, 'fake-gpt@2026-01', 'Once only, please');
    const first = await infer(service, user, request);
    const again = await infer(service, user, request);

    expect(again).toEqual(first);
    expect(server.requests.length - before).toBe(1);
    await oneEvent('ai.inference.completed', requestId);
    const marker = randomUUID();
    await infer(service, user, textRequest(marker, 'fake-gpt@2026-01', 'marker'));
    await oneEvent('ai.inference.completed', marker);
    expect(eventsOf('ai.inference.completed', requestId)).toHaveLength(1);
  });

  it('When the provider streams, then the deltas are relayed and usage is the provider’s', async () => {
    const requestId = randomUUID();
    const { events: stream, error } = await inferStream(
      service,
      user,
      textRequest(requestId, 'fake-gpt@2026-01', 'Explain error 28'),
    );
    expect(error).toBeUndefined();
    expect(stream.slice(1, -1).map((event) => event.delta!.text)).toEqual([
      'It means ',
      'the disk ',
      'is full.',
    ]);
    expect(stream.at(-1)!.completed).toMatchObject({
      text: 'It means the disk is full.',
      // 40 × 0.15 + 6 × 0.6 = 9.6 µ$ → 10
      usage: { inputTokens: 40, outputTokens: 6, costUsd: '0.000010', estimated: false },
    });
    expect(JSON.parse(server.requests.at(-1)!.body)).toMatchObject({ stream: true, model: 'gpt-4o-mini' });
  });

  it('When the caller cancels a stream, then the provider sees its connection closed and a failure is published', async () => {
    const requestId = randomUUID();
    const { events: stream } = await inferStream(
      service,
      user,
      textRequest(requestId, 'fake-gpt@2026-01', 'hang after the first words'),
      { stopAfter: (event) => event.delta !== undefined && event.delta !== null },
    );
    expect(stream.map((event) => (event.started ? 'started' : 'delta'))).toEqual(['started', 'delta']);
    const upstream = server.requests.at(-1)!;
    expect(lastUserText(JSON.parse(upstream.body) as ChatBody)).toContain('hang');
    await waitFor(() => upstream.clientGone, { description: 'the provider to see the connection closed' });
    const failed = await oneEvent('ai.inference.failed', requestId);
    expect(failed.data).toMatchObject({
      user_id: user.userId,
      model: 'fake-gpt@2026-01',
      provider: 'fake',
      error_code: 'CANCELLED',
      inference_id: stream[0].started!.inferenceId,
    });
    expect(eventsOf('ai.inference.completed', requestId)).toHaveLength(0);
  });

  it('When the call’s deadline passes, then the provider request is abandoned with DEADLINE_EXCEEDED', async () => {
    const error = await failure(
      infer(service, user, textRequest(randomUUID(), 'fake-gpt@2026-01', 'slow answer please'), 500),
    );
    expect(error.code).toBe('DEADLINE_EXCEEDED');
    const upstream = server.requests.at(-1)!;
    expect(lastUserText(JSON.parse(upstream.body) as ChatBody)).toContain('slow');
    await waitFor(() => upstream.clientGone, { description: 'the provider to see the connection closed' });
  });

  it('When the provider fails, then the caller gets UNAVAILABLE and ai.inference.failed is published', async () => {
    const requestId = randomUUID();
    const error = await failure(infer(service, user, textRequest(requestId, 'fake-gpt@2026-01', 'fail now')));
    expect(error.code).toBe('UNAVAILABLE');
    const failed = await oneEvent('ai.inference.failed', requestId);
    expect(failed.data).toMatchObject({
      error_code: 'UNAVAILABLE',
      model: 'fake-gpt@2026-01',
      request_id: requestId,
    });
  });

  it('When images go to an alias with a text-only target, then PRECONDITION_FAILED; the vision version takes them', async () => {
    const withImage = (model: string) => ({
      requestId: randomUUID(),
      model,
      messages: [
        {
          role: 'user',
          content: [
            { text: 'What is this?' },
            { image: { mediaType: 'image/png', data: Buffer.from([0x89, 0x50]) } },
          ],
        },
      ],
    });
    const error = await failure(infer(service, user, withImage('chat')));
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toContain('"chat"');
    expect(await infer(service, user, withImage('fake-gpt@2026-01'))).toMatchObject({
      modelVersion: 'fake-gpt@2026-01',
    });
  });

  it('When another replica changes the registry, then this replica sees it through ai.registry.changed', async () => {
    // Writes from a client of its own, as another replica would: no local refresh, and polling is 10 min.
    const { db, pool } = openDb(env);
    try {
      const other = new RegistryRepository(db);
      await other.createVersion({ ...STABLE, version: '2026-02' });
      await other.setAliasTargets('chat', [{ version: 'fake-gpt@2026-02', weight: 1 }]);
    } finally {
      await db.$disconnect();
      await pool.end();
    }
    await waitFor(
      async () =>
        (await infer(service, user, textRequest(randomUUID(), 'chat', 'hi'))).modelVersion ===
        'fake-gpt@2026-02',
      { description: 'the alias change to reach the replica' },
    );
    const { models } = await as(user, () => callUnary(service.catalog, 'ListModels', {}));
    expect(models.find((model) => model.name === 'chat')?.capabilities).toMatchObject({ vision: true });
  });
});
