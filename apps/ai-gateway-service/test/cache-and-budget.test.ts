import { randomUUID } from 'node:crypto';
import { callUnary, type teAiV1 } from '@te/grpc';
import { captureLogger, closeRedis, createRedis, type Principal, type Redis } from '@te/platform';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { dailyWindow, RedisTokenBudget } from '../src/budget/index.js';
import { responseCacheKey } from '../src/cache/index.js';
import { estimateInputTokens, estimateTextTokens } from '../src/providers/token-estimate.js';
import { startOwnRedis } from './support/own-redis.js';
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
  startAiGateway,
  textRequest,
  userPrincipal,
  type RunningAiGateway,
} from './support/ai-gateway.harness.js';

const VERSION: NewModelVersion = {
  model: 'cached-gpt',
  version: '1',
  providerId: 'fake',
  providerModel: 'gpt-4o-mini',
  capabilities: { vision: false, streaming: true, contextWindow: 128_000, maxOutputTokens: 16_384 },
  inputPricePerMillion: '0.15',
  outputPricePerMillion: '0.6',
};
const BUDGET = 1_000;

interface ChatBody {
  model: string;
  stream?: boolean;
  messages: { role: string; content: string | { type: string; text?: string }[] }[];
}

const lastUserText = (body: ChatBody) => {
  const content = body.messages.at(-1)!.content;
  return typeof content === 'string' ? content : content.map((part) => part.text ?? '').join(' ');
};
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** An InferRequest on the cached-gpt alias with the cache on and a bounded answer. */
function ask(question: string, options: { useCache?: boolean; maxOutputTokens?: number } = {}) {
  return {
    ...textRequest(randomUUID(), 'chat', question),
    useCache: options.useCache ?? true,
    maxOutputTokens: options.maxOutputTokens ?? 50,
  } satisfies teAiV1.InferRequest;
}

describe('response cache and token budgets through the gRPC service', () => {
  let env: ServiceTestEnv;
  let server: LoopbackServer;
  let service: RunningAiGateway;
  let events: Awaited<ReturnType<typeof observeEvents>>;
  let redis: Redis;
  let budgets: RedisTokenBudget;

  beforeAll(async () => {
    // Plays the provider: usage 30 + 9 tokens; "big" uses 800 + 100; "fail" is a 500; a "hang"
    // stream sends one delta and stays silent.
    server = await startLoopbackServer((request, response) => {
      const body = JSON.parse(request.body) as ChatBody;
      const text = lastUserText(body);
      if (text.includes('fail')) return sendJson(response, 500, { error: { message: 'overloaded' } });
      if (!body.stream)
        return sendJson(response, 200, {
          object: 'chat.completion',
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: `Fresh answer to: ${text}` },
              finish_reason: 'stop',
            },
          ],
          usage: text.includes('big')
            ? { prompt_tokens: 800, completion_tokens: 100 }
            : { prompt_tokens: 30, completion_tokens: 9 },
        });
      sseStartHeaders(response);
      response.write(chunk({ role: 'assistant', content: 'It means ' }));
      if (text.includes('hang')) return; // one delta, then silence
      response.write(chunk({ content: 'the disk ' }));
      response.write(chunk({ content: 'is full.' }, 'stop'));
      response.write(
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 40, completion_tokens: 6 } })}\n\n`,
      );
      response.end('data: [DONE]\n\n');
    });
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.inference.*']);
    service = await startGateway({});
    await service.app.registry.createVersion(VERSION);
    await service.app.registry.setAliasTargets('chat', [{ version: 'cached-gpt@1', weight: 1 }]);
    const user = userPrincipal(randomUUID());
    await waitFor(async () => {
      const { models } = await as(user, () => callUnary(service.catalog, 'ListModels', {}));
      return models.some((model) => model.name === 'chat');
    });
    const { logger } = captureLogger('cache-and-budget-test');
    redis = createRedis({
      url: env.env['REDIS_URL']!,
      keyPrefix: env.env['REDIS_KEY_PREFIX'],
      logger,
      name: 'cache-and-budget-test',
    });
    await redis.connect();
    budgets = new RedisTokenBudget(redis, logger, { tokensPerDay: BUDGET, reservationTtlSeconds: 900 });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await events?.close();
    await server?.close();
    if (redis) await closeRedis(redis);
    await env?.cleanup();
  }, 60_000);

  function startGateway(overrides: Record<string, string>) {
    return startAiGateway(env, {
      AI_PROVIDERS: 'local,fake',
      AI_PROVIDER_FAKE_KIND: 'openai',
      AI_PROVIDER_FAKE_BASE_URL: `${server.origin}/v1`,
      AI_PROVIDER_FAKE_TIMEOUT_MS: '5000',
      AI_RETRY_MAX_ATTEMPTS: '1',
      AI_TOKEN_BUDGET_PER_DAY: String(BUDGET),
      ...overrides,
    });
  }

  const providerCalls = () => server.requests.length;
  const completedEvent = (requestId: string) =>
    waitFor(
      () =>
        events.received.find(
          (event) => event.type === 'ai.inference.completed' && event.data['request_id'] === requestId,
        ),
      { description: `ai.inference.completed for ${requestId}` },
    );
  const used = async (user: Principal) => (await budgets.state(user.userId))?.used;

  it('When the same user asks the same thing with use_cache, then the second answer comes from the cache without the provider', async () => {
    const user = userPrincipal(randomUUID());
    const before = providerCalls();
    const firstRequest = ask('What does error 28 mean?');
    const first = await infer(service, user, firstRequest);
    const secondRequest = ask('What does error 28 mean?');
    const second = await infer(service, user, secondRequest);

    expect(providerCalls() - before).toBe(1);
    expect(first).toMatchObject({ cached: false, usage: { inputTokens: 30, outputTokens: 9 } });
    expect(second).toMatchObject({
      cached: true,
      text: first.text,
      finishReason: 'stop',
      modelVersion: 'cached-gpt@1',
      provider: 'fake',
      usage: { inputTokens: 0, outputTokens: 0, costUsd: '0.000000' },
    });
    expect(second.inferenceId).not.toBe(first.inferenceId);
    // The hit is reported, marked and free; only the provider call used budget.
    expect((await completedEvent(secondRequest.requestId!)).data).toMatchObject({
      cached: true,
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: '0.000000',
      inference_id: second.inferenceId,
      model: 'cached-gpt@1',
    });
    const firstEvent = await completedEvent(firstRequest.requestId!);
    expect(firstEvent.data).toMatchObject({ input_tokens: 30, output_tokens: 9 });
    expect(firstEvent.data).not.toHaveProperty('cached');
    expect(await used(user)).toBe(39);
    // A retried request_id of the hit returns the same answer (stored like any answer).
    expect(await infer(service, user, secondRequest)).toEqual(second);
  });

  it('When another user asks, or use_cache is off, then the provider answers and nothing is stored', async () => {
    const alice = userPrincipal(randomUUID());
    const bob = userPrincipal(randomUUID());
    await infer(service, alice, ask('Is the printer on fire?'));
    const before = providerCalls();

    expect((await infer(service, bob, ask('Is the printer on fire?'))).cached).toBe(false);
    expect((await infer(service, alice, ask('Is the printer on fire?', { useCache: false }))).cached).toBe(
      false,
    );
    expect(providerCalls() - before).toBe(2);

    // Without use_cache the answer is not stored either.
    await infer(service, alice, ask('Only once?', { useCache: false }));
    expect((await infer(service, alice, ask('Only once?'))).cached).toBe(false);
    expect(providerCalls() - before).toBe(4);
  });

  it('When a cached answer is streamed, then it is replayed as started, deltas and completed with cached=true', async () => {
    const user = userPrincipal(randomUUID());
    const before = providerCalls();
    const live = await inferStream(service, user, ask('Explain error 28'));
    expect(live.error).toBeUndefined();
    expect(live.events.at(-1)!.completed).toMatchObject({
      cached: false,
      text: 'It means the disk is full.',
    });

    const replay = await inferStream(service, user, ask('Explain error 28'));
    expect(replay.error).toBeUndefined();
    expect(providerCalls() - before).toBe(1);
    const [started, ...rest] = replay.events;
    const completed = rest.pop()!.completed!;
    expect(started.started).toMatchObject({ modelVersion: 'cached-gpt@1', provider: 'fake' });
    expect(started.started!.inferenceId).not.toBe(live.events[0].started!.inferenceId);
    expect(rest.length).toBeGreaterThan(1);
    expect(rest.map((event) => event.delta!.text).join('')).toBe('It means the disk is full.');
    expect(completed).toMatchObject({
      cached: true,
      text: 'It means the disk is full.',
      inferenceId: started.started!.inferenceId,
      usage: { inputTokens: 0, outputTokens: 0, costUsd: '0.000000' },
    });
    // The stream's answer serves Infer too: the key is the request, not the RPC.
    expect((await infer(service, user, ask('Explain error 28'))).cached).toBe(true);
    expect(providerCalls() - before).toBe(1);
    expect(await used(user)).toBe(46);
  });

  it('When the TTL has passed, then the entry is gone and the provider answers again', async () => {
    const shortLived = await startGateway({ AI_CACHE_TTL_SECONDS: '1' });
    try {
      const user = userPrincipal(randomUUID());
      const request = ask('Does this expire?');
      await infer(shortLived, user, request);
      const key = responseCacheKey({
        userId: user.userId,
        model: 'chat',
        maxOutputTokens: 50,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Does this expire?' }] }],
      });
      expect(await redis.pttl(key)).toBeLessThanOrEqual(1_000);
      await waitFor(async () => (await redis.exists(key)) === 0, {
        timeoutMs: 10_000,
        description: 'the cache entry to expire',
      });
      const before = providerCalls();
      expect((await infer(shortLived, user, ask('Does this expire?'))).cached).toBe(false);
      expect(providerCalls() - before).toBe(1);
    } finally {
      await shortLived.stop();
    }
  }, 30_000);

  it('When a user’s budget is used up, then Infer and InferStream fail with RATE_LIMITED and retry-after until the UTC day resets, but cached answers are still served', async () => {
    const user = userPrincipal(randomUUID());
    await infer(service, user, ask('Cache me first'));
    await infer(service, user, ask('A big question', { maxOutputTokens: 100 })); // 900 tokens
    expect(await used(user)).toBe(39 + 900);
    const before = providerCalls();

    // Holds ~110: 939 + 110 > 1000.
    const error = await failure(infer(service, user, ask('One more?', { maxOutputTokens: 100 })));
    const untilReset = (dailyWindow(new Date()).endsAt.getTime() - Date.now()) / 1000;
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toContain('daily token budget');
    expect(error.retryAfterSeconds).toBeGreaterThan(untilReset - 30);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil(untilReset) + 1);
    const streamed = await inferStream(service, user, ask('One more?', { maxOutputTokens: 100 }));
    expect(streamed.events).toEqual([]);
    expect(streamed.error?.code).toBe('RATE_LIMITED');
    expect(providerCalls()).toBe(before);

    expect((await infer(service, user, ask('Cache me first'))).cached).toBe(true);
  });

  it('When a call uses less than it reserved, then the budget is settled to its real usage and a later request fits', async () => {
    const user = userPrincipal(randomUUID());
    // Holds ~912 (prompt estimate + 900) of 1000, uses 39: a second such request only fits if settled.
    await infer(service, user, ask('Long answer allowed', { maxOutputTokens: 900, useCache: false }));
    await infer(service, user, ask('Long answer allowed', { maxOutputTokens: 900, useCache: false }));
    expect(await budgets.state(user.userId)).toEqual({ used: 78, held: 0 });
  });

  it('When the provider call fails, then the reservation is released and counts nothing', async () => {
    const user = userPrincipal(randomUUID());
    const error = await failure(infer(service, user, ask('please fail', { maxOutputTokens: 900 })));
    expect(error.code).toBe('UNAVAILABLE');
    expect(await budgets.state(user.userId)).toEqual({ used: 0, held: 0 });
    expect((await infer(service, user, ask('Now answer', { maxOutputTokens: 900 }))).cached).toBe(false);
    expect(await used(user)).toBe(39);
  });

  it('When the caller cancels a stream after some deltas, then the prompt and the delivered text are counted', async () => {
    const user = userPrincipal(randomUUID());
    const request = ask('please hang after a few words', { maxOutputTokens: 900 });
    const { events: received } = await inferStream(service, user, request, {
      stopAfter: (event) => Boolean(event.delta),
    });
    expect(received.map((event) => event.delta?.text)).toEqual([undefined, 'It means ']);
    const expected =
      estimateInputTokens([
        { role: 'user', content: [{ type: 'text', text: 'please hang after a few words' }] },
      ]) + estimateTextTokens('It means ');
    await waitFor(async () => (await budgets.state(user.userId))?.used === expected, {
      description: 'the cancelled stream to be settled',
    });
    expect(await budgets.state(user.userId)).toEqual({ used: expected, held: 0 });
  });

  it('When the service’s Redis is down, then inferences still answer (cache skipped, budget not enforced) and each outage is logged once', async () => {
    const own = await startOwnRedis();
    const detached = await startGateway({ REDIS_URL: own.url, AI_TOKEN_BUDGET_PER_DAY: '1' });
    try {
      const user = userPrincipal(randomUUID());
      await own.kill();
      const before = providerCalls();
      const first = await infer(detached, user, ask('Still there?'));
      const second = await infer(detached, user, ask('Still there?'));
      const streamed = await inferStream(detached, user, ask('Explain error 28'));

      expect([first.cached, second.cached]).toEqual([false, false]);
      expect(streamed.error).toBeUndefined();
      expect(providerCalls() - before).toBe(3); // a budget of 1 token would have refused them all
      const warnings = (prefix: string) =>
        detached.logs
          .lines()
          .filter((line) => line['level'] === 'warn' && String(line['message']).startsWith(prefix));
      expect(warnings('response cache unavailable')).toHaveLength(1);
      expect(warnings('token budget unavailable: budgets are not enforced (fail-open)')).toHaveLength(1);
    } finally {
      await detached.stop();
      await own.kill();
    }
  }, 60_000);
});
