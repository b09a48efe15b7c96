import { randomUUID } from 'node:crypto';
import { callUnary } from '@te/grpc';
import { createEvent, RabbitMqEventBus } from '@te/events';
import { captureLogger, closeRedis, createMetrics, createRedis, type Redis } from '@te/platform';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { RedisTokenBudget } from '../src/budget/index.js';
import { userCachePrefix } from '../src/cache/index.js';
import { USER_DELETED } from '../src/events/user-deleted.consumer.js';
import {
  as,
  createAiGatewayEnv,
  infer,
  openDb,
  startAiGateway,
  textRequest,
  userPrincipal,
  type RunningAiGateway,
} from './support/ai-gateway.harness.js';

describe('user.deleted: ai-gateway-service erases what it keeps about the user', () => {
  let env: ServiceTestEnv;
  let service: RunningAiGateway;
  let db: ReturnType<typeof openDb>;
  let redis: Redis;
  let publisher: RabbitMqEventBus;

  beforeAll(async () => {
    env = await createAiGatewayEnv();
    service = await startAiGateway(env);
    db = openDb(env);
    redis = createRedis({
      url: env.env['REDIS_URL']!,
      keyPrefix: env.env['REDIS_KEY_PREFIX'],
      logger: captureLogger('test-redis').logger,
      name: 'test',
    });
    await redis.connect();
    publisher = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      logger: captureLogger('publisher').logger,
      metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
      connectionName: 'test-publisher',
    });
    await publisher.connect();
  });

  afterAll(async () => {
    await publisher?.close();
    if (redis) await closeRedis(redis);
    await db?.db.$disconnect();
    await db?.pool.end();
    await service?.stop();
    await env?.cleanup();
  });

  /** Keys under the test's Redis prefix that start with `prefix`. */
  async function keysStartingWith(prefix: string): Promise<string[]> {
    const [, keys] = await redis.scan(
      '0',
      'MATCH',
      `${redis.options.keyPrefix ?? ''}${prefix}*`,
      'COUNT',
      10_000,
    );
    return keys;
  }

  /** Gives the user a stored answer, a cached answer, a budget window and a queued inference. */
  async function leaveTraces(userId: string) {
    const principal = userPrincipal(userId);
    await infer(service, principal, {
      ...textRequest(randomUUID(), 'explainer', 'What does the dialog say?', 'Screen: Save changes?'),
      useCache: true,
    });
    const requestId = randomUUID();
    await as(principal, () =>
      callUnary(service.inference, 'SubmitInference', textRequest(requestId, 'explainer', 'And this one?')),
    );
    // Answered by this process's worker before the deletion, so nothing is written after it (a job
    // still running at deletion time may store its answer afterwards: README, "Account deletion").
    await waitFor(async () => {
      const row = await db.db.queuedInference.findUnique({
        where: { userId_requestId: { userId, requestId } },
      });
      return row?.status === 'completed';
    });
  }

  async function traces(userId: string) {
    return {
      storedAnswers: await db.db.storedInference.count({ where: { userId } }),
      queuedInferences: await db.db.queuedInference.count({ where: { userId } }),
      cacheKeys: (await keysStartingWith(userCachePrefix(userId))).length,
      budgetKeys: (await keysStartingWith(RedisTokenBudget.userPrefix(userId))).length,
    };
  }

  it('When user.deleted arrives (twice), then that user’s answers, queued requests, cache and budgets are gone and another user’s stay', async () => {
    const deleted = randomUUID();
    const kept = randomUUID();
    await leaveTraces(deleted);
    await leaveTraces(kept);
    const before = await traces(deleted);
    expect(before.storedAnswers).toBeGreaterThanOrEqual(1);
    expect(before.queuedInferences).toBe(1);
    expect(before.cacheKeys).toBe(1);
    expect(before.budgetKeys).toBeGreaterThanOrEqual(1);

    const event = createEvent({
      type: USER_DELETED,
      source: 'user-service',
      subject: deleted,
      data: { user_id: deleted, deleted_at: new Date().toISOString() },
    });
    await publisher.publish(event);
    await waitFor(async () => {
      const now = await traces(deleted);
      return Object.values(now).every((count) => count === 0);
    });

    // A redelivery (at-least-once) changes nothing and fails nothing: once it has been handled (a later
    // deletion has been erased behind it), the user's rows were erased exactly once.
    await publisher.publish(event);
    const later = randomUUID();
    await leaveTraces(later);
    await publisher.publish(
      createEvent({ type: USER_DELETED, source: 'user-service', subject: later, data: { user_id: later } }),
    );
    await waitFor(async () => (await traces(later)).storedAnswers === 0);
    const erasures = service.logs
      .lines()
      .filter((line) => line.message === 'user data erased' && line.user_id === deleted);
    expect(erasures).toHaveLength(1);
    expect(await traces(deleted)).toEqual({
      storedAnswers: 0,
      queuedInferences: 0,
      cacheKeys: 0,
      budgetKeys: 0,
    });

    const other = await traces(kept);
    expect(other.storedAnswers).toBeGreaterThanOrEqual(1);
    expect(other.queuedInferences).toBe(1);
    expect(other.cacheKeys).toBe(1);
    expect(other.budgetKeys).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
