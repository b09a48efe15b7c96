import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createEvent, RabbitMqEventBus } from '@te/events';
import { callServerStream, createGrpcClient, loadProtos, type teIntegrationV1 } from '@te/grpc';
import { AppError, captureLogger, createMetrics, runWithRequestContext } from '@te/platform';
import { createServiceTestEnv, waitFor, type ServiceTestEnv } from '@te/testing';
import { createIntegrationServiceApp } from '../src/app.js';
import { loadIntegrationServiceConfig } from '../src/config.js';
import { EventLog } from '../src/event-stream/event-log.js';
import { EVENT_LOG_QUEUE } from '../src/event-stream/event-log.consumer.js';

const SCHEMA = path.join(__dirname, '../prisma/schema.prisma');
/** Small, so the per-user cap (and the gap it causes) is reached by a few events. */
const MAX_PER_USER = 5;
const MAX_STREAMS_PER_USER = 3;

type Message = teIntegrationV1.StreamEventsResponse__Output;
type UserEvent = teIntegrationV1.UserEvent__Output;

/** One open StreamEvents call as the given user, collecting what arrives. */
interface OpenStream {
  received: Message[];
  events(): UserEvent[];
  /** Resolves with `opened` (rejects when the call fails first). */
  opened: Promise<NonNullable<Message['opened']>>;
  /** Settles when the call ends; resolves with the error it ended with, if any. */
  done: Promise<unknown>;
  close(): Promise<void>;
}

describe('event stream (in-process service over gRPC, real PostgreSQL, Redis and RabbitMQ)', () => {
  let env: ServiceTestEnv;
  let app: ReturnType<typeof createIntegrationServiceApp>;
  let client: InstanceType<ReturnType<typeof loadProtos>['te']['integration']['v1']['EventStream']>;
  let publisher: RabbitMqEventBus;
  let redis: Redis;
  let opsPort = 0;
  const serviceName = `integration-service-${randomUUID().slice(0, 8)}`;
  const captured = captureLogger('integration-service', 'debug');
  const streams: OpenStream[] = [];

  beforeAll(async () => {
    env = await createServiceTestEnv({
      schemaPath: SCHEMA,
      databaseName: 'te_integration',
      queues: ['integration-service.platform-events', EVENT_LOG_QUEUE],
    });
    const config = loadIntegrationServiceConfig({
      ...env.env,
      // Its own name, so the tail's Redis connection is this run's in CLIENT LIST.
      SERVICE_NAME: serviceName,
      EVENT_LOG_MAX_PER_USER: String(MAX_PER_USER),
      EVENT_STREAM_MAX_PER_USER: String(MAX_STREAMS_PER_USER),
    });
    app = createIntegrationServiceApp(config, { logger: captured.logger });
    const started = await app.start();
    opsPort = started.opsPort;
    client = createGrpcClient(loadProtos().te.integration.v1.EventStream, `127.0.0.1:${started.grpcPort}`, {
      logger: captured.logger,
      metrics: createMetrics({ service: 'test-client', defaultMetrics: false }),
    });
    publisher = new RabbitMqEventBus({
      url: env.amqp.url,
      exchange: env.amqp.exchange,
      logger: captured.logger,
      metrics: createMetrics({ service: 'publisher', defaultMetrics: false }),
      connectionName: 'test-publisher',
    });
    await publisher.connect();
    redis = new Redis(env.env['REDIS_URL']!, { keyPrefix: env.env['REDIS_KEY_PREFIX'] });
  }, 120_000);

  afterEach(async () => {
    await Promise.all(streams.splice(0).map((stream) => stream.close()));
  });

  afterAll(async () => {
    client?.close();
    await publisher?.close();
    await app?.stop();
    redis?.disconnect();
    await env?.cleanup();
  }, 60_000);

  function open(
    userId: string,
    request: { lastEventId?: string; types?: readonly string[] } = {},
  ): OpenStream {
    const controller = new AbortController();
    const received: Message[] = [];
    let markOpened!: (opened: NonNullable<Message['opened']>) => void;
    let failOpen!: (error: unknown) => void;
    const opened = new Promise<NonNullable<Message['opened']>>((resolve, reject) => {
      markOpened = resolve;
      failOpen = reject;
    });
    opened.catch(() => undefined);
    const principal = { userId, roles: ['user'], scopes: ['events:read'] };
    const done = runWithRequestContext({ requestId: `evt-${randomUUID()}`, principal }, async () => {
      try {
        for await (const message of callServerStream(
          client,
          'StreamEvents',
          { lastEventId: request.lastEventId ?? '', types: [...(request.types ?? [])] },
          { deadlineMs: 120_000, signal: controller.signal },
        )) {
          received.push(message);
          if (message.opened) markOpened(message.opened);
        }
        failOpen(new Error('stream ended'));
        return undefined;
      } catch (error) {
        failOpen(error);
        return error;
      }
    });
    const stream: OpenStream = {
      received,
      events: () => received.flatMap((message) => (message.event ? [message.event] : [])),
      opened,
      done,
      close: async () => {
        controller.abort();
        await done;
      },
    };
    streams.push(stream);
    return stream;
  }

  /** A user-visible event of `userId` (docs/events.md fields; only user_id matters here). */
  const visible = (userId: string, type = 'context.message.created') =>
    createEvent({
      type,
      source: 'context-service',
      subject: randomUUID(),
      data: { user_id: userId, session_id: randomUUID(), message_id: randomUUID(), role: 'user' },
    });

  const logLength = (userId: string) => redis.xlen(EventLog.key(userId));

  /** How many deliveries of `type` the event-stream consumer acknowledged (the service's own metric). */
  async function acked(type: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('amqp_message_processing_seconds_count{') &&
          l.includes(`${EVENT_LOG_QUEUE}"`) &&
          l.includes(`type="${type}"`) &&
          l.includes('outcome="acked"'),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  const until = <T>(predicate: () => T | Promise<T>, description: string) =>
    waitFor(predicate, { timeoutMs: 20_000, description });

  it("When events are published for A and for B, then A's open stream gets A's, live and in full, and B's only B's", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const streamA = open(a);
    const streamB = open(b);
    expect(await streamA.opened).toEqual({ gap: false, latestStreamId: '' });
    await streamB.opened;

    const ofA = [visible(a), visible(a, 'context.session.created')];
    for (const event of ofA) await publisher.publish(event);
    const ofB = visible(b);
    await publisher.publish(ofB);

    await until(() => streamA.events().length === 2, "A's two events on A's stream");
    await until(() => streamB.events().length === 1, "B's event on B's stream");
    expect(
      streamA
        .events()
        .map(({ id, type, occurredAt, dataJson }) => ({ id, type, occurredAt, data: JSON.parse(dataJson) })),
    ).toEqual(
      expect.arrayContaining(
        ofA.map((event) => ({ id: event.id, type: event.type, occurredAt: event.time, data: event.data })),
      ),
    );
    for (const event of streamA.events()) expect(event.streamId).toMatch(/^\d+-\d+$/);
    expect(streamB.events().map((event) => event.id)).toEqual([ofB.id]);
    // The logs hold exactly each owner's events.
    expect(await logLength(a)).toBe(2);
    expect(await logLength(b)).toBe(1);
  });

  it('When a stream resumes after an event, then it replays exactly what came after it, then continues live', async () => {
    const user = randomUUID();
    const first = open(user);
    await first.opened;
    for (let n = 0; n < 3; n += 1) await publisher.publish(visible(user));
    await until(() => first.events().length === 3, 'three events');
    await first.close();
    const [e1, e2, e3] = first.events();

    const resumed = open(user, { lastEventId: e1!.streamId });
    expect(await resumed.opened).toEqual({ gap: false, latestStreamId: e3!.streamId });
    await until(() => resumed.events().length === 2, 'the replay');
    const later = visible(user);
    await publisher.publish(later);
    await until(() => resumed.events().length === 3, 'the live event after the replay');

    expect(resumed.events().map((event) => event.streamId)).toEqual([
      e2!.streamId,
      e3!.streamId,
      expect.any(String),
    ]);
    expect(resumed.events()[2]!.id).toBe(later.id);
    expect(resumed.received[0]?.opened).toBeTruthy(); // opened first, then the events
  });

  it('When the same event is delivered three times, then it is in the log and on the stream once', async () => {
    const user = randomUUID();
    const stream = open(user);
    await stream.opened;
    const before = await acked('ai.inference.failed');
    const event = createEvent({
      type: 'ai.inference.failed',
      source: 'ai-gateway-service',
      data: { user_id: user, inference_id: randomUUID(), error_code: 'UNAVAILABLE' },
    });

    await Promise.all([publisher.publish(event), publisher.publish(event), publisher.publish(event)]);

    await until(
      async () => (await acked('ai.inference.failed')) >= before + 3,
      'the three deliveries handled',
    );
    await until(() => stream.events().length >= 1, 'the event on the stream');
    expect(await logLength(user)).toBe(1);
    const replayed = open(user, { lastEventId: '0-0' });
    await replayed.opened;
    await until(() => replayed.events().length >= 1, 'the replay');
    expect(stream.events().map((e) => e.id)).toEqual([event.id]);
    expect(replayed.events().map((e) => e.id)).toEqual([event.id]);
  });

  it('When more events than the per-user cap arrived after the resume point, then the stream says gap and replays the retained ones', async () => {
    const user = randomUUID();
    const live = open(user);
    await live.opened;
    for (let n = 0; n < MAX_PER_USER + 2; n += 1) await publisher.publish(visible(user));
    await until(() => live.events().length === MAX_PER_USER + 2, 'every event live');
    await live.close();
    const all = live.events().map((event) => event.streamId);

    const lagging = open(user, { lastEventId: all[0] });
    expect(await lagging.opened).toMatchObject({ gap: true });
    await until(() => lagging.events().length === MAX_PER_USER, 'the retained events');
    expect(lagging.events().map((e) => e.streamId)).toEqual(all.slice(2));

    // From the oldest retained event on, nothing was lost.
    const current = open(user, { lastEventId: all[2] });
    expect(await current.opened).toMatchObject({ gap: false });
    await until(() => current.events().length === MAX_PER_USER - 1, 'the events after it');
    expect(current.events().map((e) => e.streamId)).toEqual(all.slice(3));
  });

  it('When events are older than the retention, then the next append trims them and a resume from before the last trimmed one reports the gap', async () => {
    const user = randomUUID();
    const longLog = new EventLog(redis, { retentionMs: 3_600_000, maxPerUser: 100 });
    const shortLog = new EventLog(redis, { retentionMs: 1_000, maxPerUser: 100 });
    const entry = (id = randomUUID()) => ({
      id,
      type: 'context.message.created',
      occurredAt: new Date().toISOString(),
      dataJson: JSON.stringify({ user_id: user }),
    });
    const older = await longLog.append(user, entry());
    const old = await longLog.append(user, entry());
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // beyond the short retention

    // An append under a 1 s retention trims what is older and sets the key to expire with it.
    const recent = await shortLog.append(user, entry());
    const ttl = await redis.pttl(EventLog.key(user));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    expect((await redis.xrange(EventLog.key(user), '-', '+')).map(([id]) => id)).toEqual([recent]);
    // A third append under the long retention keeps both recent ones and the log alive.
    const latest = await longLog.append(user, entry());
    expect(await logLength(user)).toBe(2);

    // `old` was trimmed after `older`: a client that saw only `older` missed it; one that saw `old` did not.
    const lagging = open(user, { lastEventId: older! });
    expect(await lagging.opened).toEqual({ gap: true, latestStreamId: latest });
    const current = open(user, { lastEventId: old! });
    expect(await current.opened).toEqual({ gap: false, latestStreamId: latest });
    for (const stream of [lagging, current]) {
      await until(() => stream.events().length === 2, 'the retained events');
      expect(stream.events().map((e) => e.streamId)).toEqual([recent, latest]);
    }
  });

  it('When types are asked for, then only those arrive; unknown types and malformed ids are refused before anything is sent', async () => {
    const user = randomUUID();
    const filtered = open(user, { types: ['context.session.created'] });
    await filtered.opened;
    await publisher.publish(visible(user, 'context.message.created'));
    await until(async () => (await logLength(user)) === 1, 'the first event logged');
    const wanted = visible(user, 'context.session.created');
    await publisher.publish(wanted);
    await until(() => filtered.events().length === 1, 'the filtered event');
    expect(filtered.events().map((e) => [e.id, e.type])).toEqual([[wanted.id, 'context.session.created']]);

    for (const [request, field] of [
      [{ types: ['session.revoked'] }, 'types'],
      [{ types: ['context.message.created', 'nope'] }, 'types'],
      [{ lastEventId: 'abc' }, 'last_event_id'],
      [{ lastEventId: '1-2-3' }, 'last_event_id'],
      [{ lastEventId: '99999999999999999999999-0' }, 'last_event_id'],
    ] as const) {
      const refused = open(user, request);
      const error = await refused.done;
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        code: 'VALIDATION_FAILED',
        fields: [expect.objectContaining({ field })],
      });
      expect(refused.received).toEqual([]);
    }
  });

  it('When the caller has no principal, then UNAUTHENTICATED and nothing is sent', async () => {
    const received: unknown[] = [];
    const error = await (async () => {
      for await (const message of callServerStream(client, 'StreamEvents', { lastEventId: '', types: [] })) {
        received.push(message);
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(received).toEqual([]);
  });

  it('When user.deleted arrives, then the log is erased and a late event of that user does not bring it back', async () => {
    const user = randomUUID();
    await publisher.publish(visible(user));
    await until(async () => (await logLength(user)) === 1, 'the event logged');

    await publisher.publish(
      createEvent({
        type: 'user.deleted',
        source: 'user-service',
        subject: user,
        data: { user_id: user, deleted_at: new Date().toISOString() },
      }),
    );
    await until(
      async () => (await redis.exists(EventLog.key(user), `${EventLog.key(user)}:ids`)) === 0,
      'erasure',
    );

    const before = await acked('context.attachment.processed');
    await publisher.publish(visible(user, 'context.attachment.processed'));
    await until(async () => (await acked('context.attachment.processed')) > before, 'the late event handled');
    expect(await redis.exists(EventLog.key(user))).toBe(0);
  });

  it('When streams are cancelled, then they release their reader: one tail connection for all, idle once none is open', async () => {
    const tailConnections = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${serviceName}:event-tail `));
    const [a, b] = [randomUUID(), randomUUID()];
    const opened = [open(a), open(a), open(b)];
    await Promise.all(opened.map((stream) => stream.opened));

    // However many streams are open, one connection blocks for them all.
    const whileOpen = await until(async () => {
      const lines = await tailConnections();
      return lines.length === 1 && /flags=b/.test(lines[0]!) && lines;
    }, 'the tail blocking in XREAD');
    expect(whileOpen).toHaveLength(1);
    // The per-user limit counts open streams.
    const third = open(a);
    await third.opened;
    const refused = open(a);
    expect(await refused.done).toMatchObject({ code: 'RATE_LIMITED' });

    await Promise.all([...opened, third].map((stream) => stream.close()));
    await until(
      () =>
        captured.lines().some((line) => line.message === 'event stream closed' && line['open_streams'] === 0),
      'every stream closed on the server',
    );
    const idle = await until(async () => {
      const lines = await tailConnections();
      return lines.length === 1 && !/flags=b/.test(lines[0]!) && lines;
    }, 'the tail idle');
    expect(idle).toHaveLength(1);
    // A new stream still works after that.
    const again = open(b);
    await again.opened;
    const event = visible(b);
    await publisher.publish(event);
    await until(() => again.events().some((e) => e.id === event.id), 'the live event');
  });
});
