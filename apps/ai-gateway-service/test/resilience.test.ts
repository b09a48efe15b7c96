import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import type { NewModelVersion } from '../src/domain/registry.js';
import {
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
import {
  sendJson,
  sseStartHeaders,
  startLoopbackServer,
  type LoopbackServer,
  type ReceivedRequest,
} from './support/loopback-server.js';

/**
 * Each provider is an OpenAI-compatible server on loopback (one HTTP server, one path per provider:
 * /p/<id>/v1/chat/completions), so each has its own breaker and slots and the tests do not meet.
 */
const PROVIDERS = ['ratelimited', 'flaky', 'slow', 'steady', 'early', 'late', 'down', 'fragile', 'narrow'];
const COOL_DOWN_MS = 1_500;

type Behaviour = (request: ReceivedRequest, response: ServerResponse, body: ChatBody) => unknown;
interface ChatBody {
  model: string;
  stream?: boolean;
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** A well-behaved answer: "Answer from <model>." whole, or streamed in three deltas with usage. */
const answers: Behaviour = (_request, response, body) => {
  if (!body.stream)
    return sendJson(response, 200, {
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: `Answer from ${body.model}.` },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 1_000, completion_tokens: 500 },
    });
  sseStartHeaders(response);
  response.write(chunk({ role: 'assistant', content: 'Answer ' }));
  response.write(chunk({ content: 'from ' }));
  response.write(chunk({ content: `${body.model}.` }, 'stop'));
  response.write(
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 1_000, completion_tokens: 500 } })}\n\n`,
  );
  response.end('data: [DONE]\n\n');
};
const serverError: Behaviour = (_request, response) =>
  sendJson(response, 503, { error: { message: 'overloaded' } });

const version = (
  model: string,
  provider: string,
  overrides: Partial<NewModelVersion> = {},
): NewModelVersion => ({
  model,
  version: '1',
  providerId: provider,
  providerModel: `${provider}-model`,
  capabilities: { vision: false, streaming: true, contextWindow: 128_000, maxOutputTokens: 4_096 },
  inputPricePerMillion: '0.15',
  outputPricePerMillion: '0.6',
  ...overrides,
});

describe('ai-gateway-service resilience against failing providers', () => {
  let env: ServiceTestEnv;
  let server: LoopbackServer;
  let service: RunningAiGateway;
  let events: Awaited<ReturnType<typeof observeEvents>>;
  const behaviours = new Map<string, Behaviour>();
  const arrivals = new Map<string, number[]>();
  const user = userPrincipal(randomUUID());

  const providerOf = (request: ReceivedRequest) => /^\/p\/([a-z]+)\//.exec(request.url)?.[1] ?? '';
  const requestsTo = (provider: string) =>
    server.requests.filter((request) => providerOf(request) === provider);

  beforeAll(async () => {
    server = await startLoopbackServer((request, response) => {
      const provider = providerOf(request);
      arrivals.set(provider, [...(arrivals.get(provider) ?? []), Date.now()]);
      return (behaviours.get(provider) ?? answers)(request, response, JSON.parse(request.body) as ChatBody);
    });
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.inference.*']);
    const providerVariables: Record<string, string> = {};
    for (const id of PROVIDERS) {
      const prefix = `AI_PROVIDER_${id.toUpperCase()}`;
      providerVariables[`${prefix}_KIND`] = 'openai';
      providerVariables[`${prefix}_BASE_URL`] = `${server.origin}/p/${id}/v1`;
      providerVariables[`${prefix}_TIMEOUT_MS`] = id === 'slow' ? '300' : '5000';
    }
    service = await startAiGateway(env, {
      AI_PROVIDERS: ['local', ...PROVIDERS].join(','),
      ...providerVariables,
      AI_PROVIDER_NARROW_MAX_CONCURRENCY: '2',
      AI_CONCURRENCY_QUEUE_LIMIT: '2',
      AI_RETRY_MAX_ATTEMPTS: '3',
      AI_RETRY_BASE_DELAY_MS: '20',
      AI_RETRY_MAX_DELAY_MS: '100',
      AI_RETRY_AFTER_MAX_MS: '3000',
      AI_BREAKER_FAILURE_THRESHOLD: '4',
      AI_BREAKER_MINIMUM_CALLS: '1000',
      AI_BREAKER_COOL_DOWN_MS: String(COOL_DOWN_MS),
    });
    const { registry } = service.app;
    for (const id of PROVIDERS) await registry.createVersion(version(id, id));
    // The steady fallback has its own prices, so the cost shows which version was billed.
    await registry.createVersion(
      version('steady', 'steady', { version: '2', inputPricePerMillion: '1', outputPricePerMillion: '2' }),
    );
    // Weight 0: never drawn, only a fallback.
    await registry.setAliasTargets('slow-chat', [
      { version: 'slow@1', weight: 100 },
      { version: 'steady@2', weight: 0 },
    ]);
    await registry.setAliasTargets('early-chat', [
      { version: 'early@1', weight: 100 },
      { version: 'steady@2', weight: 0 },
    ]);
    await registry.setAliasTargets('late-chat', [
      { version: 'late@1', weight: 100 },
      { version: 'steady@2', weight: 0 },
    ]);
    await registry.setAliasTargets('chat', [
      { version: 'down@1', weight: 100 },
      { version: 'steady@2', weight: 1 },
    ]);
    await waitFor(() => service.app.registryCache.loaded);
  });

  afterAll(async () => {
    await service?.stop();
    await events?.close();
    await server?.close();
    await env?.cleanup();
  });

  const eventsOf = (type: string, requestId: string) =>
    events.received.filter((event) => event.type === type && event.data['request_id'] === requestId);
  /** The events of `requestId` once they have all arrived (a later marker inference has been published). */
  async function settledEvents(requestId: string) {
    const marker = randomUUID();
    await infer(service, user, textRequest(marker, 'local-explainer@1', 'marker'));
    await waitFor(() => eventsOf('ai.inference.completed', marker).length === 1, {
      description: 'the marker’s completion',
    });
    return {
      completed: eventsOf('ai.inference.completed', requestId),
      failed: eventsOf('ai.inference.failed', requestId),
    };
  }
  const metric = async (name: string) =>
    (await service.app.host.metrics.registry.getSingleMetricAsString(name)).split('\n');

  it('When a provider answers 429 with Retry-After, then the retry comes no earlier and it answers', async () => {
    let calls = 0;
    behaviours.set('ratelimited', (request, response, body) =>
      ++calls === 1
        ? sendJson(response, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' })
        : answers(request, response, body),
    );
    const answer = await infer(service, user, textRequest(randomUUID(), 'ratelimited@1', 'Hello'));

    expect(answer).toMatchObject({ modelVersion: 'ratelimited@1', text: 'Answer from ratelimited-model.' });
    const [first, second] = arrivals.get('ratelimited')!;
    expect(arrivals.get('ratelimited')).toHaveLength(2);
    // Retry-After: 1 second (timers may round a millisecond down).
    expect(second - first).toBeGreaterThanOrEqual(995);
    expect(await metric('ai_provider_retries_total')).toContain(
      'ai_provider_retries_total{provider="ratelimited",code="RATE_LIMITED"} 1',
    );
  });

  it('When a provider fails with 5xx twice, then the third attempt answers and one completion is published', async () => {
    let calls = 0;
    behaviours.set('flaky', (request, response, body) =>
      ++calls <= 2 ? serverError(request, response, body) : answers(request, response, body),
    );
    const requestId = randomUUID();
    const answer = await infer(service, user, textRequest(requestId, 'flaky@1', 'Hello'));

    expect(answer).toMatchObject({ modelVersion: 'flaky@1', provider: 'flaky' });
    expect(requestsTo('flaky')).toHaveLength(3);
    const settled = await settledEvents(requestId);
    expect(settled.completed).toHaveLength(1);
    expect(settled.failed).toHaveLength(0);
  });

  it('When a version is too slow for its timeout, then the alias’s weight-0 target answers after its retries', async () => {
    behaviours.set('slow', () => undefined); // never answers
    const requestId = randomUUID();
    const answer = await infer(service, user, textRequest(requestId, 'slow-chat', 'Hello'));

    // 1000 × $1/M + 500 × $2/M = $0.002: priced at the version that answered.
    expect(answer).toMatchObject({
      modelVersion: 'steady@2',
      provider: 'steady',
      usage: { costUsd: '0.002000' },
    });
    const slow = requestsTo('slow');
    expect(slow).toHaveLength(3);
    await waitFor(() => slow.every((request) => request.clientGone), {
      description: 'each timed-out request to be abandoned',
    });
    const settled = await settledEvents(requestId);
    expect(settled.completed.map((event) => event.data['model'])).toEqual(['steady@2']);
    expect(settled.failed).toHaveLength(0);
  });

  it('When a version keeps failing, then the alias’s next target answers, is billed, and one completion names it', async () => {
    behaviours.set('down', serverError);
    const requestId = randomUUID();
    const answer = await infer(service, user, textRequest(requestId, 'chat', 'Hello'));

    expect(answer).toMatchObject({
      modelVersion: 'steady@2',
      provider: 'steady',
      text: 'Answer from steady-model.',
    });
    expect(requestsTo('down')).toHaveLength(3);
    const settled = await settledEvents(requestId);
    expect(settled.completed).toHaveLength(1);
    expect(settled.completed[0].data).toMatchObject({
      model: 'steady@2',
      provider: 'steady',
      cost_usd: '0.002000',
      inference_id: answer.inferenceId,
    });
    expect(settled.failed).toHaveLength(0);
    expect(await metric('ai_inference_fallbacks_total')).toContain(
      'ai_inference_fallbacks_total{from_provider="down",to_provider="steady"} 1',
    );
  });

  it('When a stream breaks before its first delta, then the next version streams the answer', async () => {
    behaviours.set('early', (_request, response) => {
      sseStartHeaders(response);
      response.write(chunk({ role: 'assistant' }));
      setTimeout(() => response.destroy(), 10);
    });
    const requestId = randomUUID();
    const { events: stream, error } = await inferStream(
      service,
      user,
      textRequest(requestId, 'early-chat', 'Hi'),
    );

    expect(error).toBeUndefined();
    expect(stream[0].started).toMatchObject({ modelVersion: 'steady@2', provider: 'steady' });
    expect(
      stream
        .filter((event) => event.delta)
        .map((event) => event.delta!.text)
        .join(''),
    ).toBe('Answer from steady-model.');
    expect(stream.at(-1)!.completed).toMatchObject({
      modelVersion: 'steady@2',
      usage: { costUsd: '0.002000' },
    });
    expect(requestsTo('early')).toHaveLength(3);
    const settled = await settledEvents(requestId);
    expect(settled.completed).toHaveLength(1);
    expect(settled.failed).toHaveLength(0);
  });

  it('When a stream breaks after its first delta, then it fails without a retry or fallback, and one failure is published', async () => {
    behaviours.set('late', (_request, response) => {
      sseStartHeaders(response);
      response.write(chunk({ role: 'assistant', content: 'It means ' }));
      setTimeout(() => response.destroy(), 50);
    });
    const steadyBefore = requestsTo('steady').length;
    const requestId = randomUUID();
    const { events: stream, error } = await inferStream(
      service,
      user,
      textRequest(requestId, 'late-chat', 'Hi'),
    );

    expect(
      stream.map((event) => (event.started ? 'started' : event.delta ? event.delta.text : 'other')),
    ).toEqual(['started', 'It means ']);
    expect(stream[0].started).toMatchObject({ modelVersion: 'late@1' });
    expect(error?.code).toBe('UNAVAILABLE');
    expect(requestsTo('late')).toHaveLength(1);
    expect(requestsTo('steady')).toHaveLength(steadyBefore);
    const settled = await settledEvents(requestId);
    expect(settled.completed).toHaveLength(0);
    expect(settled.failed.map((event) => event.data)).toEqual([
      expect.objectContaining({ model: 'late@1', provider: 'late', error_code: 'UNAVAILABLE' }),
    ]);
  });

  it('When a provider keeps failing, then its circuit opens and it gets no calls; after the cool-down one probe closes it', async () => {
    let healthy = false;
    behaviours.set('fragile', (request, response, body) =>
      healthy ? answers(request, response, body) : serverError(request, response, body),
    );
    // Three attempts, then a fourth failure: the circuit opens (threshold 4).
    const firstId = randomUUID();
    expect((await failure(infer(service, user, textRequest(firstId, 'fragile@1', 'Hi')))).code).toBe(
      'UNAVAILABLE',
    );
    expect((await failure(infer(service, user, textRequest(randomUUID(), 'fragile@1', 'Hi')))).code).toBe(
      'UNAVAILABLE',
    );
    expect(requestsTo('fragile')).toHaveLength(4);
    expect(await metric('ai_provider_circuit_state')).toContain(
      'ai_provider_circuit_state{provider="fragile"} 2',
    );

    // Open: refused at once, the provider is not called.
    const refused = await failure(infer(service, user, textRequest(randomUUID(), 'fragile@1', 'Hi')));
    expect(refused.code).toBe('UNAVAILABLE');
    // Refused by the circuit: once at the second inference's retry, once now.
    expect(await metric('ai_provider_refusals_total')).toContain(
      'ai_provider_refusals_total{provider="fragile",reason="circuit_open"} 2',
    );
    expect(requestsTo('fragile')).toHaveLength(4);

    // The provider recovers; after the cool-down the circuit is half-open and one probe closes it.
    healthy = true;
    await waitFor(
      async () =>
        (await metric('ai_provider_circuit_state')).includes(
          'ai_provider_circuit_state{provider="fragile"} 1',
        ),
      { description: 'the circuit to become half-open', timeoutMs: COOL_DOWN_MS + 5_000 },
    );
    expect(await infer(service, user, textRequest(randomUUID(), 'fragile@1', 'Hi'))).toMatchObject({
      modelVersion: 'fragile@1',
    });
    expect(requestsTo('fragile')).toHaveLength(5);
    expect(await metric('ai_provider_circuit_state')).toContain(
      'ai_provider_circuit_state{provider="fragile"} 0',
    );
    await infer(service, user, textRequest(randomUUID(), 'fragile@1', 'Hi'));
    expect(requestsTo('fragile')).toHaveLength(6);

    // Three attempts of the first inference: one ai.inference.failed.
    const settled = await settledEvents(firstId);
    expect(settled.failed).toHaveLength(1);
  });

  it('When more callers come than a provider’s concurrency, then it sees at most that many; the rest wait or are refused', async () => {
    let inFlight = 0;
    let most = 0;
    const held: (() => void)[] = [];
    behaviours.set('narrow', (request, response, body) => {
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        answers(request, response, body);
      });
    });
    const call = (deadlineMs = 10_000) =>
      infer(service, user, textRequest(randomUUID(), 'narrow@1', 'Hi'), deadlineMs).then(
        (answer) => ({ ok: true as const, answer }),
        (error: { code: string }) => ({ ok: false as const, code: error.code }),
      );
    const queued = async (count: number) =>
      (await metric('ai_provider_calls_queued')).includes(
        `ai_provider_calls_queued{provider="narrow"} ${count}`,
      );

    // Two in flight (AI_PROVIDER_NARROW_MAX_CONCURRENCY=2).
    const running = [call(), call()];
    await waitFor(() => held.length === 2, { description: 'two calls at the provider' });
    // A waiter whose deadline passes in the queue never reaches the provider.
    expect(await call(400)).toEqual({ ok: false, code: 'DEADLINE_EXCEEDED' });
    await waitFor(() => queued(0), { description: 'the expired waiter to leave the queue' });
    // Two wait (AI_CONCURRENCY_QUEUE_LIMIT=2); the next is refused at once.
    const waiting = [call(), call()];
    await waitFor(() => queued(2), { description: 'two callers queued' });
    const refused = await call();
    expect(refused).toEqual({ ok: false, code: 'RATE_LIMITED' });
    expect(requestsTo('narrow')).toHaveLength(2);

    // Each slot freed goes to a waiter.
    for (let released = 0; released < 4; released++) {
      await waitFor(() => held.length > 0, { description: 'a request at the provider' });
      held.shift()!();
    }
    const results = await Promise.all([...running, ...waiting]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(requestsTo('narrow')).toHaveLength(4);
    expect(most).toBe(2);
  });
});
