import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { createMetrics, captureLogger } from '@te/platform';
import { callUnary, type teAiV1 } from '@te/grpc';
import { RabbitMqEventBus } from '@te/events';
import { freePort, spawnService, waitFor, type ServiceTestEnv, type SpawnedService } from '@te/testing';
import { Prisma } from '../src/db/generated/prisma/client.js';
import { inferenceRequested } from '../src/domain/queued-inference.js';
import type { NewModelVersion } from '../src/domain/registry.js';
import { INFERENCE_QUEUE } from '../src/jobs/inference-job.consumer.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from './support/loopback-server.js';
import {
  as,
  createAiGatewayEnv,
  failure,
  infer,
  observeEvents,
  openDb,
  startAiGateway,
  textRequest,
  userPrincipal,
  type RunningAiGateway,
} from './support/ai-gateway.harness.js';

const WORKER_ENTRY = 'apps/ai-gateway-service/dist/worker.js';
const MODEL: NewModelVersion = {
  model: 'queued-gpt',
  version: '1',
  providerId: 'fake',
  providerModel: 'gpt-4o-mini',
  capabilities: { vision: false, streaming: true, contextWindow: 128_000, maxOutputTokens: 4_096 },
  inputPricePerMillion: '0.15',
  outputPricePerMillion: '0.6',
};

type Events = Awaited<ReturnType<typeof observeEvents>>;

/** A loopback OpenAI-compatible provider: "fail" → 400; the first request asking "hold" never gets an answer. */
async function startProvider(): Promise<LoopbackServer> {
  const seen = new Map<string, number>();
  return startLoopbackServer((request, response) => {
    const body = JSON.parse(request.body) as {
      model: string;
      messages: { content: string | { text?: string }[] }[];
    };
    const content = body.messages.at(-1)!.content;
    const text = typeof content === 'string' ? content : content.map((part) => part.text ?? '').join(' ');
    const count = (seen.get(text) ?? 0) + 1;
    seen.set(text, count);
    if (text.includes('fail'))
      return sendJson(response, 400, { error: { message: 'This model cannot answer that prompt' } });
    if (text.includes('hold') && count === 1) return; // held until the client goes away
    return sendJson(response, 200, {
      object: 'chat.completion',
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: `Queued answer to: ${text}` },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 },
    });
  });
}

function providerEnv(server: LoopbackServer): Record<string, string> {
  return {
    AI_PROVIDERS: 'local,fake',
    AI_PROVIDER_FAKE_KIND: 'openai',
    AI_PROVIDER_FAKE_BASE_URL: `${server.origin}/v1`,
    AI_PROVIDER_FAKE_TIMEOUT_MS: '30000',
  };
}

function callsTo(server: LoopbackServer, text: string): number {
  return server.requests.filter((request) => request.body.includes(text)).length;
}

function eventsOf(events: Events, type: string, requestId: string) {
  return events.received.filter((event) => event.type === type && event.data['request_id'] === requestId);
}

describe('queued inference (SubmitInference → work queue → worker → GetInference)', () => {
  let env: ServiceTestEnv;
  let provider: LoopbackServer;
  let api: RunningAiGateway;
  let worker: RunningAiGateway | undefined;
  let spawned: SpawnedService | undefined;
  let events: Events;
  let broker: ChannelModel;
  let db: ReturnType<typeof openDb>;
  const user = userPrincipal(randomUUID());
  const stranger = userPrincipal(randomUUID());

  const submit = (principal: typeof user | undefined, request: teAiV1.InferRequest) =>
    as(principal, () => callUnary(api.inference, 'SubmitInference', request, { deadlineMs: 10_000 }));
  const get = (principal: typeof user | undefined, requestId: string) =>
    as(principal, () => callUnary(api.inference, 'GetInference', { requestId }, { deadlineMs: 10_000 }));
  const settled = (requestId: string) =>
    waitFor(
      async () => {
        const status = await get(user, requestId);
        return (status.status === 'completed' || status.status === 'failed') && status;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: `inference ${requestId} settled` },
    );
  const startWorker = () => startAiGateway(env, providerEnv(provider), { role: 'worker' });

  async function workQueue(): Promise<{ messageCount: number; consumerCount: number }> {
    const channel = await broker.createChannel();
    try {
      return await channel.checkQueue(`${env.amqp.queuePrefix}${INFERENCE_QUEUE}`);
    } finally {
      await channel.close();
    }
  }

  async function jobsEnqueued(requestId: string): Promise<number> {
    const rows = await db.db.outboxEvent.findMany({ where: { type: 'ai.inference_job.requested' } });
    return rows.filter(
      (row) => (row.envelope as { data: { request_id: string } }).data.request_id === requestId,
    ).length;
  }

  beforeAll(async () => {
    provider = await startProvider();
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.inference.*']);
    // The API process leaves the work queue to the worker deployment.
    api = await startAiGateway(env, { ...providerEnv(provider), INFERENCE_WORKER_ENABLED: 'false' });
    await api.app.registry.createVersion(MODEL);
    broker = await connect(env.amqp.url, { timeout: 10_000 });
    db = openDb(env);
  }, 60_000);

  afterAll(async () => {
    await spawned?.stop('SIGKILL');
    await broker?.close();
    await worker?.stop();
    await api?.stop();
    await events?.close();
    await db?.db.$disconnect();
    await db?.pool.end();
    await provider?.close();
    await env?.cleanup();
  }, 60_000);

  it('When an inference is submitted, then it is queued at once, waits for a worker, and the worker answers it with one ai.inference.completed carrying the usage', async () => {
    const requestId = randomUUID();
    const request = {
      ...textRequest(requestId, 'queued-gpt@1', 'What does error 0x80070070 mean?'),
      metadata: { session_id: 's-1' },
    };

    expect(await submit(user, request)).toEqual({ requestId, status: 'queued' });

    // No worker runs yet: the job waits in the work queue; the request waits in PostgreSQL.
    await waitFor(async () => (await workQueue()).messageCount === 1, {
      timeoutMs: 10_000,
      description: 'the job in the work queue',
    });
    expect(await workQueue()).toMatchObject({ messageCount: 1, consumerCount: 0 });
    expect(await get(user, requestId)).toMatchObject({
      requestId,
      status: 'queued',
      response: null,
      finishedAt: '',
    });
    const row = await db.db.queuedInference.findUnique({
      where: { userId_requestId: { userId: user.userId, requestId } },
    });
    expect(row?.request).toMatchObject({ model: 'queued-gpt@1', messages: [{ role: 'user' }] });

    worker = await startWorker();

    const status = await settled(requestId);
    expect(status).toMatchObject({
      requestId,
      status: 'completed',
      error: null,
      response: {
        modelVersion: 'queued-gpt@1',
        provider: 'fake',
        text: 'Queued answer to: What does error 0x80070070 mean?',
        finishReason: 'stop',
        // 1000 × 0.15 + 100 × 0.6 = 210 µ$
        usage: { inputTokens: 1000, outputTokens: 100, costUsd: '0.000210', estimated: false },
      },
    });
    expect(status.finishedAt).not.toBe('');
    await waitFor(async () => eventsOf(events, 'ai.inference.completed', requestId).length === 1, {
      timeoutMs: 10_000,
      description: 'ai.inference.completed',
    });
    expect(eventsOf(events, 'ai.inference.completed', requestId)[0]!.data).toMatchObject({
      user_id: user.userId,
      model: 'queued-gpt@1',
      input_tokens: 1000,
      output_tokens: 100,
      cost_usd: '0.000210',
      inference_id: status.response!.inferenceId,
      metadata: { session_id: 's-1' },
    });
    // The request is not kept once answered; the queue is drained by the worker.
    const done = await db.db.queuedInference.findUnique({
      where: { userId_requestId: { userId: user.userId, requestId } },
    });
    expect(done).toMatchObject({ status: 'completed', request: null, attempts: 1 });
    expect(await workQueue()).toMatchObject({ messageCount: 0, consumerCount: 1 });
  }, 90_000);

  it('When the same request_id is submitted again (or twice at once), then the existing status is returned and one job, one provider call and one event exist', async () => {
    const requestId = randomUUID();
    const request = textRequest(requestId, 'queued-gpt@1', 'Why is the printer offline?');
    const [first, second] = await Promise.all([submit(user, request), submit(user, request)]);
    // The loser of the race gets the winner's inference, in whatever state the worker has it by then.
    expect([first.status, second.status]).toContain('queued');
    await settled(requestId);

    expect(await submit(user, request)).toEqual({ requestId, status: 'completed' });
    expect(await jobsEnqueued(requestId)).toBe(1);
    expect(callsTo(provider, 'Why is the printer offline?')).toBe(1);
    await everythingObserved();
    expect(eventsOf(events, 'ai.inference.completed', requestId)).toHaveLength(1);
  }, 60_000);

  it('When a request_id was already answered by Infer, then SubmitInference reports it completed at once with that answer and queues nothing', async () => {
    const requestId = randomUUID();
    const answer = await infer(api, user, textRequest(requestId, 'queued-gpt@1', 'Answered synchronously'));

    expect(await submit(user, textRequest(requestId, 'queued-gpt@1', 'Answered synchronously'))).toEqual({
      requestId,
      status: 'completed',
    });
    expect((await get(user, requestId)).response?.inferenceId).toBe(answer.inferenceId);
    expect(await jobsEnqueued(requestId)).toBe(0);
  }, 30_000);

  it('When the provider fails, then the inference is failed with the error and one ai.inference.failed, and a redelivered job changes nothing', async () => {
    const requestId = randomUUID();
    await submit(user, { ...textRequest(requestId, 'queued-gpt@1', 'please fail'), metadata: { k: 'v' } });

    const status = await settled(requestId);
    expect(status).toMatchObject({
      status: 'failed',
      response: null,
      error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('cannot answer') },
    });
    await waitFor(async () => eventsOf(events, 'ai.inference.failed', requestId).length === 1, {
      timeoutMs: 10_000,
      description: 'ai.inference.failed',
    });
    expect(eventsOf(events, 'ai.inference.failed', requestId)[0]!.data).toMatchObject({
      user_id: user.userId,
      model: 'queued-gpt@1',
      provider: 'fake',
      error_code: 'VALIDATION_FAILED',
      metadata: { k: 'v' },
    });

    // The same job delivered again (as after a lost ack): skipped, the provider is not asked again.
    await jobDone(await publishJob(user.userId, requestId));
    await everythingObserved();
    expect(callsTo(provider, 'please fail')).toBe(1);
    expect(eventsOf(events, 'ai.inference.failed', requestId)).toHaveLength(1);
    expect(await get(user, requestId)).toMatchObject({
      status: 'failed',
      error: { code: 'VALIDATION_FAILED' },
    });
  }, 60_000);

  it('When a worker crashed after storing the answer but before settling the job, then the redelivered job settles it from the stored answer without a second provider call or event', async () => {
    const requestId = randomUUID();
    await submit(user, textRequest(requestId, 'queued-gpt@1', 'crash after answer'));
    const first = await settled(requestId);
    await waitFor(async () => eventsOf(events, 'ai.inference.completed', requestId).length === 1, {
      timeoutMs: 10_000,
      description: 'ai.inference.completed',
    });
    // What such a crash leaves: the answer and its event committed, the row still running with its request.
    await db.db.queuedInference.update({
      where: { userId_requestId: { userId: user.userId, requestId } },
      data: {
        status: 'running',
        response: Prisma.DbNull,
        finishedAt: null,
        request: {
          requestId,
          model: 'queued-gpt@1',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'crash after answer' }] }],
          maxOutputTokens: 0,
          metadata: {},
        },
      },
    });

    await jobDone(await publishJob(user.userId, requestId));

    const again = await waitFor(
      async () => {
        const row = await db.db.queuedInference.findUnique({
          where: { userId_requestId: { userId: user.userId, requestId } },
        });
        return row?.status === 'completed' && row.attempts === 2 && row;
      },
      { timeoutMs: 15_000, description: 'the redelivered job settled' },
    );
    expect(again.request).toBeNull();
    expect((await get(user, requestId)).response?.inferenceId).toBe(first.response?.inferenceId);
    expect(callsTo(provider, 'crash after answer')).toBe(1);
    await everythingObserved();
    expect(eventsOf(events, 'ai.inference.completed', requestId)).toHaveLength(1);
  }, 60_000);

  it('When the worker process (dist/worker.js) dies mid-job, then RabbitMQ redelivers the job to another worker, which answers it once', async () => {
    if (!existsSync(path.resolve(__dirname, '../../..', WORKER_ENTRY)))
      throw new Error(`${WORKER_ENTRY} is missing: npx nx run ai-gateway-service:build`);
    await worker?.stop();
    worker = undefined;
    const httpPort = await freePort();
    spawned = await spawnService({
      name: 'ai-gateway-worker',
      entry: WORKER_ENTRY,
      readyPort: httpPort,
      readyTimeoutMs: 60_000,
      env: { ...env.env, ...providerEnv(provider), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort) },
    });
    const requestId = randomUUID();
    await submit(user, textRequest(requestId, 'queued-gpt@1', 'hold while I crash'));
    // The spawned worker took the job and waits for the provider (which holds its first answer).
    await waitFor(async () => callsTo(provider, 'hold while I crash') === 1, {
      timeoutMs: 20_000,
      description: 'the spawned worker calling the provider',
    });
    expect((await get(user, requestId)).status).toBe('running');

    await spawned.stop('SIGKILL');
    spawned = undefined;
    worker = await startWorker();

    const status = await settled(requestId);
    expect(status).toMatchObject({
      status: 'completed',
      response: { text: 'Queued answer to: hold while I crash' },
    });
    expect(callsTo(provider, 'hold while I crash')).toBe(2);
    const row = await db.db.queuedInference.findUnique({
      where: { userId_requestId: { userId: user.userId, requestId } },
    });
    expect(row).toMatchObject({ status: 'completed', attempts: 2 });
    await everythingObserved();
    expect(eventsOf(events, 'ai.inference.completed', requestId)).toHaveLength(1);
    expect(eventsOf(events, 'ai.inference.failed', requestId)).toHaveLength(0);
  }, 120_000);

  it("When another user (or nobody) asks for an inference, then it is NOT_FOUND (or UNAUTHENTICATED), whoever's it is", async () => {
    const requestId = randomUUID();
    await submit(user, textRequest(requestId, 'queued-gpt@1', 'mine'));

    expect((await failure(get(stranger, requestId))).code).toBe('NOT_FOUND');
    expect((await failure(get(user, randomUUID()))).code).toBe('NOT_FOUND');
    expect((await failure(get(undefined, requestId))).code).toBe('UNAUTHENTICATED');
    expect((await failure(submit(undefined, textRequest(randomUUID(), 'queued-gpt@1', 'x')))).code).toBe(
      'UNAUTHENTICATED',
    );
    // The stranger's own inference with the same request_id is another inference.
    expect(await submit(stranger, textRequest(requestId, 'queued-gpt@1', 'theirs'))).toEqual({
      requestId,
      status: 'queued',
    });
  }, 30_000);

  it('When the request is invalid or names no model, then SubmitInference refuses it (every bad field listed) and queues nothing', async () => {
    const requestId = randomUUID();
    const invalid = await failure(
      submit(user, {
        requestId,
        model: 'queued-gpt@1',
        messages: [{ role: 'robot', content: [] }],
        maxOutputTokens: -1,
      }),
    );
    expect(invalid.code).toBe('VALIDATION_FAILED');
    const fields = (invalid.fields ?? []).map((field) => field.field);
    expect(fields).toEqual(expect.arrayContaining(['messages[0].role', 'max_output_tokens']));

    const missingId = await failure(submit(user, textRequest('', 'queued-gpt@1', 'no id')));
    expect(missingId.fields?.map((field) => field.field)).toContain('request_id');
    expect((await failure(get(user, 'has spaces'))).code).toBe('VALIDATION_FAILED');
    expect((await failure(submit(user, textRequest(requestId, 'no-such-model', 'hello')))).code).toBe(
      'NOT_FOUND',
    );

    expect(await jobsEnqueued(requestId)).toBe(0);
    expect((await failure(get(user, requestId))).code).toBe('NOT_FOUND');
  }, 30_000);

  /**
   * Every event written so far has reached the observer: the outbox is empty (all published and
   * confirmed), then an inference submitted after that completes; its event comes after them.
   */
  async function everythingObserved() {
    await waitFor(async () => (await db.db.outboxEvent.count({ where: { publishedAt: null } })) === 0, {
      timeoutMs: 15_000,
      description: 'the outbox relayed',
    });
    const marker = randomUUID();
    await submit(user, textRequest(marker, 'queued-gpt@1', 'a later question'));
    await waitFor(async () => eventsOf(events, 'ai.inference.completed', marker).length === 1, {
      timeoutMs: 15_000,
      description: 'the later inference observed',
    });
  }

  /** Waits until the in-process worker has handled the job with this event id. */
  async function jobDone(eventId: string) {
    await waitFor(
      () =>
        worker!.logs
          .lines()
          .some((line) => line['message'] === 'queued inference job done' && line['event_id'] === eventId),
      { timeoutMs: 15_000, description: `job ${eventId} handled` },
    );
  }

  /** A job as the outbox relay publishes it (a redelivery or a duplicate of the real one). */
  async function publishJob(userId: string, requestId: string): Promise<string> {
    const bus = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      queuePrefix: env.amqp.queuePrefix,
      logger: captureLogger('test-publisher').logger,
      metrics: createMetrics({ service: 'test-publisher', defaultMetrics: false }),
      connectionName: 'test-publisher',
    });
    await bus.connect();
    try {
      const job = inferenceRequested({ userId, requestId }, new Date(), 'test');
      await bus.publish(job);
      return job.id;
    } finally {
      await bus.close();
    }
  }
});

describe('queued inference sweeper', () => {
  let env: ServiceTestEnv;
  let api: RunningAiGateway;
  let worker: RunningAiGateway | undefined;
  let events: Events;
  const user = userPrincipal(randomUUID());

  beforeAll(async () => {
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.inference.*']);
    api = await startAiGateway(env, {
      INFERENCE_WORKER_ENABLED: 'false',
      QUEUED_INFERENCE_TIMEOUT_MS: '300',
      QUEUED_INFERENCE_SWEEP_MARGIN_MS: '0',
      QUEUED_INFERENCE_SWEEP_INTERVAL_MS: '200',
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await events?.close();
    await env?.cleanup();
  }, 60_000);

  it('When no worker answers a queued inference in time, then the sweeper fails it with DEADLINE_EXCEEDED and one ai.inference.failed, and a worker arriving later skips its job', async () => {
    const requestId = randomUUID();
    await as(user, () =>
      callUnary(api.inference, 'SubmitInference', textRequest(requestId, 'explainer', 'Too late?'), {
        deadlineMs: 10_000,
      }),
    );

    const status = await waitFor(
      async () => {
        const current = await as(user, () => callUnary(api.inference, 'GetInference', { requestId }));
        return current.status === 'failed' && current;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the sweeper to fail the inference' },
    );
    expect(status.error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await waitFor(async () => eventsOf(events, 'ai.inference.failed', requestId).length === 1, {
      timeoutMs: 10_000,
      description: 'ai.inference.failed',
    });
    // No provider attempted it: the model is the name as asked, the provider empty.
    expect(eventsOf(events, 'ai.inference.failed', requestId)[0]!.data).toMatchObject({
      model: 'explainer',
      provider: '',
      error_code: 'DEADLINE_EXCEEDED',
    });

    worker = await startAiGateway(env, {}, { role: 'worker' });
    const broker = await connect(env.amqp.url, { timeout: 10_000 });
    try {
      await waitFor(
        async () => {
          const channel = await broker.createChannel();
          try {
            const queue = await channel.checkQueue(`${env.amqp.queuePrefix}${INFERENCE_QUEUE}`);
            return queue.messageCount === 0 && queue.consumerCount === 1;
          } finally {
            await channel.close();
          }
        },
        { timeoutMs: 15_000, description: 'the worker to take the late job' },
      );
    } finally {
      await broker.close();
    }
    await waitFor(
      async () =>
        worker!.logs
          .lines()
          .some((line) => line['message'] === 'queued inference job done' && line['outcome'] === 'skipped'),
      { timeoutMs: 10_000, description: 'the late job skipped' },
    );
    expect(eventsOf(events, 'ai.inference.completed', requestId)).toHaveLength(0);
    expect((await as(user, () => callUnary(api.inference, 'GetInference', { requestId }))).status).toBe(
      'failed',
    );
  }, 90_000);
});
