import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { RabbitMqEventBus, type EventEnvelope } from '@te/events';
import { callUnary, createGrpcClient, loadProtos } from '@te/grpc';
import { AppError, captureLogger, createMetrics } from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv, openTestPool } from '@te/testing';
import { createIntegrationServiceApp } from '../src/app.js';
import { loadIntegrationServiceConfig } from '../src/config.js';
import { INBOUND_RECEIVED } from '../src/inbound/inbound-event.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
/** The test's own queue on the run's exchange, bound to the event it watches. */
const OBSERVER_QUEUE = 'integration-test.inbound-observer';

// Each source as an operator would configure it; the secrets are the senders' (rotation: two each).
const GITHUB_SECRETS = ['gh-old-secret-1', 'gh-new-secret-2'];
const STRIPE_SECRETS = ['whsec_stripe_old_000', 'whsec_stripe_new_111'];
const SW_SECRETS = [0, 1].map(() => `whsec_${randomBytes(32).toString('base64')}`);
const MAX_BODY_BYTES = 32 * 1024;

type Observed = EventEnvelope<Record<string, unknown> & { message_id: string; source: string }>;

describe('inbound webhooks (in-process service over gRPC, real PostgreSQL, Redis and RabbitMQ)', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createIntegrationServiceApp>;
  let client: InstanceType<ReturnType<typeof loadProtos>['te']['integration']['v1']['InboundWebhooks']>;
  let observer: RabbitMqEventBus;
  let db: pg.Pool;
  let redis: Redis;
  const observed: Observed[] = [];
  const captured = captureLogger('integration-service', 'debug');

  beforeAll(async () => {
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_integration',
      queues: ['integration-service.platform-events', OBSERVER_QUEUE],
    });
    // The observer's queue exists before anything is published (an unroutable event would be dropped).
    observer = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      queuePrefix: env.amqp.queuePrefix,
      logger: captureLogger('observer').logger,
      metrics: createMetrics({ service: 'observer', defaultMetrics: false }),
      connectionName: 'test-observer',
    });
    await observer.connect();
    await observer.subscribe<Observed['data']>({
      queue: OBSERVER_QUEUE,
      bindings: [INBOUND_RECEIVED],
      handler: async (event) => {
        observed.push(event as Observed);
      },
    });
    const config = loadIntegrationServiceConfig({
      ...env.env,
      INBOUND_SOURCES: 'github-main,stripe,acme',
      INBOUND_SOURCE_GITHUB_MAIN_KIND: 'github',
      INBOUND_SOURCE_GITHUB_MAIN_SECRET: GITHUB_SECRETS.join(','),
      INBOUND_SOURCE_STRIPE_SECRET: STRIPE_SECRETS.join(','),
      INBOUND_SOURCE_ACME_KIND: 'standard-webhooks',
      INBOUND_SOURCE_ACME_SECRET: SW_SECRETS.join(','),
      INBOUND_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    });
    app = createIntegrationServiceApp(config, { logger: captured.logger });
    const { grpcPort } = await app.start();
    client = createGrpcClient(loadProtos().te.integration.v1.InboundWebhooks, `127.0.0.1:${grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    });
    db = openTestPool(env.env['DATABASE_URL'], 2);
    redis = new Redis(env.env['REDIS_URL']!, { keyPrefix: env.env['REDIS_KEY_PREFIX'] });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await observer?.close();
    await app?.stop();
    await db?.end();
    redis?.disconnect();
    await env?.cleanup();
  }, 60_000);

  const receive = (source: string, headers: Record<string, string>, body: string | Buffer) =>
    callUnary(client, 'ReceiveWebhook', { source, headers, body: Buffer.from(body) }, { deadlineMs: 10_000 });

  const failure = async (promise: Promise<unknown>): Promise<AppError> => {
    try {
      await promise;
    } catch (error) {
      return error as AppError;
    }
    throw new Error('expected the call to fail');
  };

  /** Outbox rows (the events written) for one message of one source. */
  const eventsWritten = async (source: string, messageId: string) =>
    (
      await db.query(
        `SELECT envelope FROM outbox_events WHERE type = $1
           AND envelope->'data'->>'source' = $2 AND envelope->'data'->>'message_id' = $3`,
        [INBOUND_RECEIVED, source, messageId],
      )
    ).rows as { envelope: Observed }[];

  const published = (source: string, messageId: string) =>
    waitFor(
      () => observed.find((event) => event.data.source === source && event.data.message_id === messageId),
      { timeoutMs: 15_000, description: `integration.inbound.received for ${messageId}` },
    );

  // ------------------------------------------------------------------------------------------------
  // GitHub

  const githubDelivery = async (
    body: string,
    options: { secret?: string; id?: string; event?: string } = {},
  ) => ({
    'x-hub-signature-256': await githubSign(options.secret ?? GITHUB_SECRETS[1]!, body),
    'x-github-delivery': options.id ?? randomUUID(),
    'x-github-event': options.event ?? 'issues',
    'content-type': 'application/json',
  });
  // Unusual whitespace and non-ASCII: a re-serialised body would not verify.
  const githubBody = (marker: string) =>
    `{"action" :  "opened",\n  "issue":{ "title":"Grüße ${marker}" } ,"n": 1.0}`;

  describe('GitHub (X-Hub-Signature-256)', () => {
    it('When GitHub signs a delivery, then it is accepted and integration.inbound.received reaches RabbitMQ', async () => {
      const body = githubBody('first');
      const headers = await githubDelivery(body);

      const response = await receive('github-main', headers, body);

      expect(response).toEqual({ messageId: headers['x-github-delivery'], duplicate: false });
      const event = await published('github-main', headers['x-github-delivery']);
      expect(event).toMatchObject({
        type: INBOUND_RECEIVED,
        source: 'integration-service',
        subject: 'github-main',
        data: {
          source: 'github-main',
          kind: 'github',
          message_id: headers['x-github-delivery'],
          event_type: 'issues',
          payload: { action: 'opened', issue: { title: 'Grüße first' }, n: 1 },
        },
      });
      expect(Date.parse(event.data['received_at'] as string)).toBeGreaterThan(Date.now() - 60_000);
      expect(captured.lines()).toContainEqual(
        expect.objectContaining({
          message: 'inbound webhook accepted',
          event_id: event.id,
          source: 'github-main',
        }),
      );
    });

    it('When the delivery is signed with the older of two configured secrets (rotation), then it is accepted', async () => {
      const body = githubBody('rotated');
      const headers = await githubDelivery(body, { secret: GITHUB_SECRETS[0] });

      expect(await receive('github-main', headers, body)).toMatchObject({ duplicate: false });
      expect(await eventsWritten('github-main', headers['x-github-delivery'])).toHaveLength(1);
    });

    it('When the body is tampered, the secret is wrong or the signature missing, then UNAUTHENTICATED and no event', async () => {
      const body = githubBody('tampered');
      const signed = await githubDelivery(body);
      const { 'x-hub-signature-256': _signature, ...unsigned } = signed;
      const cases: [Record<string, string>, string][] = [
        [signed, body.replace('tampered', 'tampared')],
        [signed, JSON.stringify(JSON.parse(body))],
        [await githubDelivery(body, { secret: 'not-a-configured-secret' }), body],
        [unsigned, body],
      ];

      for (const [headers, sent] of cases) {
        const error = await failure(receive('github-main', headers, sent));
        expect(error).toBeInstanceOf(AppError);
        expect(error.code).toBe('UNAUTHENTICATED');
      }
      expect(await eventsWritten('github-main', signed['x-github-delivery'])).toHaveLength(0);
    });

    it('When X-GitHub-Delivery is missing, then UNAUTHENTICATED (a delivery without an id cannot be checked for replay)', async () => {
      const body = githubBody('anonymous');
      const { 'x-github-delivery': _id, ...headers } = await githubDelivery(body);

      const error = await failure(receive('github-main', headers, body));

      expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', 'Missing x-github-delivery header']);
    });

    it('When a delivery is replayed, then it is answered as a duplicate and no second event is written', async () => {
      const body = githubBody('replayed');
      const headers = await githubDelivery(body);

      const first = await receive('github-main', headers, body);
      const again = await receive('github-main', headers, body);
      // GitHub signs neither the delivery id nor the event name: the same signed body under a new id
      // is the same message.
      const relabelled = await receive(
        'github-main',
        { ...headers, 'x-github-delivery': randomUUID() },
        body,
      );

      expect([first.duplicate, again.duplicate, relabelled.duplicate]).toEqual([false, true, true]);
      await published('github-main', headers['x-github-delivery']);
      expect(await eventsWritten('github-main', headers['x-github-delivery'])).toHaveLength(1);
      expect(await eventsWritten('github-main', relabelled.messageId)).toHaveLength(0);
    });

    it('When a known delivery id comes back with another (validly signed) body, then CONFLICT and no event', async () => {
      const id = randomUUID();
      const original = githubBody('original');
      await receive('github-main', await githubDelivery(original, { id }), original);
      const substitute = githubBody('substitute');

      const error = await failure(
        receive('github-main', await githubDelivery(substitute, { id }), substitute),
      );

      expect(error.code).toBe('CONFLICT');
      const written = await eventsWritten('github-main', id);
      expect(written.map((row) => row.envelope.data['payload'])).toEqual([
        expect.objectContaining({ issue: { title: 'Grüße original' } }),
      ]);
    });

    it('When the same delivery arrives five times at once, then exactly one is new', async () => {
      const body = githubBody('concurrent');
      const headers = await githubDelivery(body);

      const answers = await Promise.all([1, 2, 3, 4, 5].map(() => receive('github-main', headers, body)));

      expect(answers.filter((answer) => !answer.duplicate)).toHaveLength(1);
      expect(await eventsWritten('github-main', headers['x-github-delivery'])).toHaveLength(1);
    });
  });

  // ------------------------------------------------------------------------------------------------
  // Stripe

  const stripeEvent = (type = 'invoice.paid') =>
    `{\n  "id": "evt_${randomUUID().replace(/-/g, '')}",\n  "object": "event",  "type": "${type}",\n  "data": {"object": {"id": "in_1"}}\n}`;
  const stripeHeader = (body: string, options: { secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret: options.secret ?? STRIPE_SECRETS[1]!,
      ...(options.timestamp !== undefined && { timestamp: options.timestamp }),
    });
  const idOf = (body: string) => (JSON.parse(body) as { id: string }).id;

  describe('Stripe (Stripe-Signature with tolerance)', () => {
    it("When Stripe's library signs an event, then it is accepted under its event id and published", async () => {
      const body = stripeEvent('customer.created');

      const response = await receive('stripe', { 'stripe-signature': await stripeHeader(body) }, body);

      expect(response).toEqual({ messageId: idOf(body), duplicate: false });
      const event = await published('stripe', idOf(body));
      expect(event.data).toMatchObject({
        kind: 'stripe',
        event_type: 'customer.created',
        payload: JSON.parse(body),
      });
    });

    it('When Stripe retries the event (new timestamp and signature, same body), then it is a duplicate', async () => {
      const body = stripeEvent();
      await receive('stripe', { 'stripe-signature': await stripeHeader(body) }, body);
      const retried = await stripeHeader(body, { timestamp: Math.floor(Date.now() / 1000) - 60 });

      const response = await receive('stripe', { 'stripe-signature': retried }, body);

      expect(response).toEqual({ messageId: idOf(body), duplicate: true });
      expect(await eventsWritten('stripe', idOf(body))).toHaveLength(1);
      // Remembered for the tolerance window, not longer.
      const ttl = await redis.ttl(`inbound:stripe:id:${idOf(body)}`);
      expect(ttl).toBeGreaterThan(200);
      expect(ttl).toBeLessThanOrEqual(302);
    });

    it('When the header carries one v1 per secret (Stripe rolling) or uses our older secret, then it is accepted', async () => {
      const body = stripeEvent();
      const t = Math.floor(Date.now() / 1000);
      const foreign = (await stripeHeader(body, { secret: 'whsec_not_ours', timestamp: t })).split(',')[1];
      const ours = (await stripeHeader(body, { secret: STRIPE_SECRETS[0], timestamp: t })).split(',')[1];

      const response = await receive('stripe', { 'stripe-signature': `t=${t},${foreign},${ours}` }, body);

      expect(response.duplicate).toBe(false);
    });

    it('When the timestamp is older than the tolerance, the body tampered, the secret wrong or the header missing, then UNAUTHENTICATED', async () => {
      const body = stripeEvent();
      const cases: [Record<string, string>, string, RegExp][] = [
        [
          {
            'stripe-signature': await stripeHeader(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
          },
          body,
          /too old/,
        ],
        [{ 'stripe-signature': await stripeHeader(body) }, body.replace('in_1', 'in_2'), /No v1 signature/],
        [
          { 'stripe-signature': await stripeHeader(body, { secret: 'whsec_wrong' }) },
          body,
          /No v1 signature/,
        ],
        [{}, body, /Missing stripe-signature/],
      ];

      for (const [headers, sent, reason] of cases) {
        const error = await failure(receive('stripe', headers, sent));
        expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', expect.stringMatching(reason)]);
      }
      expect(await eventsWritten('stripe', idOf(body))).toHaveLength(0);
    });
  });

  // ------------------------------------------------------------------------------------------------
  // Standard Webhooks

  const swBody = (marker: string) =>
    `{"type":"invoice.paid", "timestamp":"2026-11-25T10:00:00Z", "data":{"m":"${marker}"}}`;
  const swHeaders = (body: string, options: { secret?: string; id?: string; at?: Date } = {}) => {
    const id = options.id ?? `msg_${randomUUID()}`;
    const at = options.at ?? new Date();
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(options.secret ?? SW_SECRETS[0]!).sign(id, at, body),
    };
  };

  describe('Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)', () => {
    it('When a sender signs with the reference library, then it is accepted under webhook-id and published', async () => {
      const body = swBody('first');
      const headers = swHeaders(body);

      const response = await receive('acme', headers, body);

      expect(response).toEqual({ messageId: headers['webhook-id'], duplicate: false });
      const event = await published('acme', headers['webhook-id']);
      expect(event.data).toMatchObject({
        kind: 'standard-webhooks',
        event_type: 'invoice.paid',
        payload: { data: { m: 'first' } },
      });
    });

    it('When it is signed with the second configured secret, or the header lists several signatures, then it is accepted', async () => {
      const body = swBody('rotation');
      const bySecond = swHeaders(body, { secret: SW_SECRETS[1] });
      const several = swHeaders(body);
      const stranger = swHeaders(body, {
        id: several['webhook-id'],
        secret: `whsec_${randomBytes(32).toString('base64')}`,
      });
      several['webhook-signature'] = `${stranger['webhook-signature']} ${several['webhook-signature']}`;

      expect((await receive('acme', bySecond, body)).duplicate).toBe(false);
      expect((await receive('acme', several, body)).duplicate).toBe(false);
    });

    it('When the sender retries the message (new timestamp, same id and body), then it is a duplicate with no second event', async () => {
      const body = swBody('retried');
      const first = swHeaders(body, { at: new Date(Date.now() - 120_000) });
      const retry = swHeaders(body, { id: first['webhook-id'] });

      expect((await receive('acme', first, body)).duplicate).toBe(false);
      expect((await receive('acme', retry, body)).duplicate).toBe(true);
      await published('acme', first['webhook-id']);
      expect(await eventsWritten('acme', first['webhook-id'])).toHaveLength(1);
    });

    it('When the timestamp is stale, the body tampered, the secret wrong or a header missing, then UNAUTHENTICATED and no event', async () => {
      const body = swBody('refused');
      const good = swHeaders(body);
      const { 'webhook-timestamp': _ts, ...withoutTimestamp } = good;
      const cases: [Record<string, string>, string, RegExp][] = [
        [swHeaders(body, { id: good['webhook-id'], at: new Date(Date.now() - 301_000) }), body, /too old/],
        [good, body.replace('refused', 'accepted'), /No v1 signature/],
        [
          swHeaders(body, { id: good['webhook-id'], secret: `whsec_${randomBytes(32).toString('base64')}` }),
          body,
          /No v1 signature/,
        ],
        [withoutTimestamp, body, /Missing webhook-timestamp/],
      ];

      for (const [headers, sent, reason] of cases) {
        const error = await failure(receive('acme', headers, sent));
        expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', expect.stringMatching(reason)]);
      }
      expect(await eventsWritten('acme', good['webhook-id'])).toHaveLength(0);
    });
  });

  // ------------------------------------------------------------------------------------------------

  describe('any source', () => {
    it('When the source is not configured, then NOT_FOUND', async () => {
      const body = githubBody('nowhere');

      const error = await failure(receive('gitlab', await githubDelivery(body), body));

      expect(error.code).toBe('NOT_FOUND');
    });

    it('When a validly signed body is not a JSON object, then VALIDATION_FAILED naming the body', async () => {
      for (const body of ['payload=%7B%7D', '[1,2]']) {
        const error = await failure(receive('github-main', await githubDelivery(body), body));

        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.fields).toEqual([{ field: 'body', message: expect.any(String) }]);
      }
    });

    it('When the body is over INBOUND_MAX_BODY_BYTES, then PAYLOAD_TOO_LARGE before any verification', async () => {
      const body = `{"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`;

      const error = await failure(receive('github-main', await githubDelivery(body), body));

      expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('When deliveries were received and refused, then no secret or signature appears in the logs', () => {
      const logged = JSON.stringify(captured.lines());

      for (const secret of [...GITHUB_SECRETS, ...STRIPE_SECRETS, ...SW_SECRETS])
        expect(logged).not.toContain(secret);
      expect(logged).not.toMatch(/sha256=[0-9a-f]{64}/);
      expect(logged).toContain('inbound webhook duplicate ignored');
    });
  });
});
