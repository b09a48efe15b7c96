import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createEvent } from '@te/events';
import { waitFor } from '@te/testing';
import { WEBHOOK_LOG_PURGE_JOB } from '../src/app.js';
import {
  messageCreated,
  sessionCreated,
  WebhookReceiver,
  WebhookService,
  type ReceivedRequest,
} from './support/webhook-harness.js';

// Outbound webhooks end to end, in-process on real PostgreSQL, Redis and RabbitMQ: events published
// on the run's exchange → deliveries in the database → signed POSTs to receivers on loopback, which
// verify them with the `standardwebhooks` package (and once with `svix`). The retry schedule, the
// disable-after period and the rotation overlap are set tiny.

const SCHEDULE_STEP_MS = 300;
let service: WebhookService;
let receiver: WebhookReceiver;
/** Every secret handed out here: none may appear in a log line. */
const secrets: string[] = [];

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  service = await WebhookService.create({
    WEBHOOK_RETRY_SCHEDULE: ['0', ...Array(9).fill(`${SCHEDULE_STEP_MS}ms`)].join(','),
    WEBHOOK_RETRY_AFTER_MAX: '10s',
    WEBHOOK_DISABLE_AFTER: '2s',
    WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS: '3',
  });
}, 60_000);

afterAll(async () => {
  await service?.dispose();
  await receiver?.close();
}, 30_000);

async function endpointFor(
  userId: string,
  route: string,
  eventTypes: string[] = ['context.message.created'],
): Promise<{ id: string; secret: string; route: string }> {
  const created = await service
    .as(userId)
    .create({ url: receiver.url(route), eventTypes, description: route });
  secrets.push(created.secret);
  return { id: created.endpoint.id, secret: created.secret, route };
}

const headersOf = (request: ReceivedRequest) => request.headers as Record<string, string>;

/** Throws unless the standardwebhooks reference verifier accepts the request for this secret. */
function verify(secret: string, request: ReceivedRequest): unknown {
  return new StandardWebhook(secret).verify(request.body, headersOf(request));
}

const deliveriesOf = (endpointId: string) =>
  service.query<{ id: string; status: string; attempt_count: number }>(
    'SELECT id, status, attempt_count FROM webhook_deliveries WHERE endpoint_id = $1',
    [endpointId],
  );

/** The one delivery of an endpoint, once it has reached `status`. */
async function settled(userId: string, endpointId: string, status = 'succeeded') {
  return waitFor(
    async () => {
      const { deliveries } = await service.as(userId).deliveries(endpointId);
      return deliveries.length === 1 && deliveries[0]!.status === status && deliveries[0];
    },
    { timeoutMs: 20_000, description: `the delivery to be ${status}` },
  );
}

const recorded = (eventId: string) =>
  waitFor(
    async () => (await service.query('SELECT 1 FROM platform_events WHERE id = $1', [eventId])).length === 1,
    { timeoutMs: 10_000, description: 'the event to be recorded' },
  );

// svix ships ES modules only, which Jest's CommonJS runtime cannot load: a real Node process runs it.
const SVIX_SCRIPT = `
import { Webhook } from 'svix';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { secret, body, headers } = JSON.parse(input);
try { new Webhook(secret).verify(body, headers); process.stdout.write('accepted'); }
catch (error) { process.stdout.write(error.message); }
`;
function verifyWithSvix(secret: string, body: string, headers: IncomingHttpHeaders): string {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', SVIX_SCRIPT], {
    input: JSON.stringify({ secret, body, headers }),
    encoding: 'utf8',
    cwd: __dirname,
  });
  if (run.status !== 0) throw new Error(`svix verifier process failed: ${run.stderr}`);
  return run.stdout;
}

describe('outbound webhook delivery', () => {
  it("When a user-visible event is published, then the owner's matching endpoints receive it signed per Standard Webhooks, and no one else", async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const match = await endpointFor(alice, '/a/match');
    const star = await endpointFor(alice, '/a/star', ['*']);
    const otherType = await endpointFor(alice, '/a/other-type', ['ai.inference.completed']);
    const bobs = await endpointFor(bob, '/b/all', ['*']);
    const event = messageCreated(alice);

    // A redelivered event (at-least-once) must not be sent twice.
    await Promise.all([service.publish(event), service.publish(event)]);

    const [received] = await receiver.waitFor(match.route, 1);
    const [viaStar] = await receiver.waitFor(star.route, 1);
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.headers['webhook-id']).toBe(`msg_${event.id.replaceAll('-', '')}`);
    expect(viaStar!.headers['webhook-id']).toBe(received!.headers['webhook-id']);
    expect(Math.abs(Number(received!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(received!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verify(match.secret, received!)).toEqual({
      type: event.type,
      timestamp: event.time,
      data: event.data,
    });
    expect(JSON.parse(received!.body)).toEqual({ type: event.type, timestamp: event.time, data: event.data });
    expect(verify(star.secret, viaStar!)).toBeTruthy();
    expect(() => verify(bobs.secret, received!)).toThrow();
    expect(verifyWithSvix(match.secret, received!.body, received!.headers)).toBe('accepted');

    // Deliveries are written with the event, in one transaction: none exist for the others.
    expect(await deliveriesOf(otherType.id)).toEqual([]);
    expect(await deliveriesOf(bobs.id)).toEqual([]);
    const delivery = await settled(alice, match.id);
    expect(delivery).toMatchObject({
      messageId: received!.headers['webhook-id'],
      eventId: event.id,
      eventType: 'context.message.created',
      payloadJson: received!.body,
      nextAttemptAt: '',
    });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({
        sequence: 1,
        attempt: 1,
        succeeded: true,
        responseStatus: 200,
        responseExcerpt: 'ok',
        errorClass: '',
      }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.at(match.route)).toHaveLength(1);
  });

  it('When the endpoint answers 500, then it is retried on the schedule with the same webhook-id until a 2xx', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/retry');
    receiver.queue(endpoint.route, [
      { status: 500, body: 'database down' },
      { status: 502, body: 'x'.repeat(5000) },
    ]);

    await service.publish(messageCreated(userId));

    const requests = await receiver.waitFor(endpoint.route, 3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const request of requests) expect(verify(endpoint.secret, request)).toBeTruthy();
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(SCHEDULE_STEP_MS - 20);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(SCHEDULE_STEP_MS - 20);
    const delivery = await settled(userId, endpoint.id);
    expect(delivery.attempts.map((a) => [a.attempt, a.responseStatus, a.succeeded, a.errorClass])).toEqual([
      [3, 200, true, ''],
      [2, 502, false, 'http_status'],
      [1, 500, false, 'http_status'],
    ]);
    expect(delivery.attempts[2]!.responseExcerpt).toBe('database down');
    expect(Buffer.byteLength(delivery.attempts[1]!.responseExcerpt)).toBe(1024);
    const [health] = await service.query<{ failing_since: Date | null; enabled: boolean }>(
      'SELECT failing_since, enabled FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    expect(health).toEqual({ failing_since: null, enabled: true });
  });

  it('When the endpoint answers with Retry-After, then the next attempt is not earlier than it asked', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/retry-after');
    receiver.queue(endpoint.route, [{ status: 503, headers: { 'retry-after': '2' } }]);

    await service.publish(messageCreated(userId));

    const requests = await receiver.waitFor(endpoint.route, 2);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(1_950);
    const delivery = await settled(userId, endpoint.id);
    expect(delivery.attempts.map((a) => a.responseStatus)).toEqual([200, 503]);
  });

  it('When the endpoint answers 410 Gone, then it is disabled at once and its owner is told by an event', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/gone');
    receiver.queue(endpoint.route, [], { status: 410, body: 'gone' });

    await service.publish(messageCreated(userId));

    const delivery = await settled(userId, endpoint.id, 'failed');
    expect(delivery.attempts).toHaveLength(1);
    const { endpoint: disabled } = await service.as(userId).get(endpoint.id);
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'gone' });
    const [event] = await service.query<{ envelope: { subject: string; data: Record<string, unknown> } }>(
      "SELECT envelope FROM outbox_events WHERE type = 'integration.webhook.endpoint_disabled' AND envelope->'data'->>'endpoint_id' = $1",
      [endpoint.id],
    );
    expect(event!.envelope).toMatchObject({
      subject: userId,
      data: { user_id: userId, endpoint_id: endpoint.id, reason: 'gone', disabled_at: disabled!.disabledAt },
    });

    // A disabled endpoint gets no new deliveries; a replay or a test is refused until it is enabled.
    const next = messageCreated(userId);
    await service.publish(next);
    await recorded(next.id);
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
    expect(receiver.at(endpoint.route)).toHaveLength(1);
    await expect(service.as(userId).test(endpoint.id)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('When every attempt fails for WEBHOOK_DISABLE_AFTER, then the endpoint is disabled and endpoint_disabled is published', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/failing');
    receiver.queue(endpoint.route, [], { status: 500 });

    await service.publish(messageCreated(userId));

    const disabled = await waitFor(
      async () => {
        const { endpoint: current } = await service.as(userId).get(endpoint.id);
        return !current!.enabled && current;
      },
      { timeoutMs: 20_000, description: 'the endpoint to be disabled' },
    );
    expect(disabled.disabledReason).toBe('failing');
    const requests = receiver.at(endpoint.route);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(Date.parse(disabled.disabledAt) - requests[0]!.at).toBeGreaterThanOrEqual(2_000 - 50);
    const delivery = await settled(userId, endpoint.id, 'failed');
    expect(delivery.attempts).toHaveLength(requests.length);
    const row = await waitFor(
      async () =>
        (
          await service.query<{
            published_at: Date | null;
            envelope: { data: { reason: string; failing_since: string } };
          }>(
            "SELECT published_at, envelope FROM outbox_events WHERE type = 'integration.webhook.endpoint_disabled' AND envelope->'data'->>'endpoint_id' = $1",
            [endpoint.id],
          )
        ).find((candidate) => candidate.published_at !== null),
      { timeoutMs: 10_000, description: 'the endpoint_disabled event to be published by the relay' },
    );
    expect(row.envelope.data.reason).toBe('failing');
    expect(Date.parse(row.envelope.data.failing_since)).toBeLessThanOrEqual(requests[0]!.at + 5);

    // Enabling it again starts afresh: a test event is delivered.
    receiver.queue(endpoint.route, [], { status: 204 });
    await service.as(userId).update({ id: endpoint.id, enabled: true });
    const test = await service.as(userId).test(endpoint.id);
    await waitFor(
      async () =>
        (await service.as(userId).delivery(endpoint.id, test.delivery!.id)).delivery!.status === 'succeeded',
      {
        timeoutMs: 20_000,
        description: 'the test delivery',
      },
    );
  });

  it('When the service restarts while a retry is pending, then the retry happens once, from the database', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/restart');
    receiver.queue(endpoint.route, [{ status: 503, headers: { 'retry-after': '3' } }]);

    await service.publish(messageCreated(userId));
    await receiver.waitFor(endpoint.route, 1);
    await waitFor(async () => (await deliveriesOf(endpoint.id))[0]?.attempt_count === 1, {
      timeoutMs: 10_000,
      description: 'the first attempt to be recorded',
    });
    await service.stop();
    expect(receiver.at(endpoint.route)).toHaveLength(1);
    await service.start();

    const requests = await receiver.waitFor(endpoint.route, 2);
    expect(requests[1]!.headers['webhook-id']).toBe(requests[0]!.headers['webhook-id']);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(2_950);
    const delivery = await settled(userId, endpoint.id);
    expect(delivery.attempts.map((a) => a.responseStatus)).toEqual([200, 503]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.at(endpoint.route)).toHaveLength(2);
  });

  it('When the secret is rotated, then both secrets verify during the overlap and only the new one after it', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/rotation', ['*']);
    const rotated = await service.as(userId).rotate(endpoint.id);
    secrets.push(rotated.secret);

    await service.as(userId).test(endpoint.id);
    const [during] = await receiver.waitFor(endpoint.route, 1);
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(endpoint.secret, during!)).toBeTruthy();
    expect(verify(rotated.secret, during!)).toBeTruthy();
    expect(verifyWithSvix(endpoint.secret, during!.body, during!.headers)).toBe('accepted');

    const overlapEnds = Date.parse(rotated.endpoint!.previousSecretExpiresAt);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, overlapEnds - Date.now()) + 100));
    await service.as(userId).test(endpoint.id);
    const [, after] = await receiver.waitFor(endpoint.route, 2);
    expect(String(after!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verify(rotated.secret, after!)).toBeTruthy();
    expect(() => verify(endpoint.secret, after!)).toThrow();
    expect((await service.as(userId).get(endpoint.id)).endpoint!.previousSecretExpiresAt).toBe('');
  });

  it('When a delivery is replayed, then the same message (webhook-id and body) is sent again in a new attempt sequence', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/replay');
    await service.publish(messageCreated(userId));
    const [first] = await receiver.waitFor(endpoint.route, 1);
    const delivery = await settled(userId, endpoint.id);

    const replayed = await service.as(userId).replay(endpoint.id, delivery.id);

    expect(replayed.delivery!.status).toBe('pending');
    const [, again] = await receiver.waitFor(endpoint.route, 2);
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(again!.body).toBe(first!.body);
    expect(verify(endpoint.secret, again!)).toBeTruthy();
    const after = await settled(userId, endpoint.id);
    expect(after.attempts.map((a) => [a.sequence, a.attempt])).toEqual([
      [2, 1],
      [1, 1],
    ]);
  });

  it('When a test event is sent, then only that endpoint receives a webhook.test message', async () => {
    const userId = randomUUID();
    const target = await endpointFor(userId, '/test-target', ['ai.inference.failed']);
    const sibling = await endpointFor(userId, '/test-sibling', ['*']);

    const sent = await service.as(userId).test(target.id);

    const [request] = await receiver.waitFor(target.route, 1);
    const body = verify(target.secret, request!) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe('webhook.test');
    expect(body.data).toMatchObject({ endpoint_id: target.id, user_id: userId });
    expect(request!.headers['webhook-id']).toBe(sent.delivery!.messageId);
    expect(await deliveriesOf(sibling.id)).toEqual([]);
  });

  it('When the delivery log is read, then it pages newest first with each delivery’s attempts', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/log', ['*']);
    const events = [sessionCreated(userId), messageCreated(userId, 'one'), messageCreated(userId, 'two')];
    for (const [index, event] of events.entries()) {
      await service.publish(event);
      await receiver.waitFor(endpoint.route, index + 1);
    }
    await waitFor(
      async () => (await deliveriesOf(endpoint.id)).filter((d) => d.status === 'succeeded').length === 3,
      { timeoutMs: 10_000, description: 'three deliveries' },
    );

    const first = await service.as(userId).deliveries(endpoint.id, 2);
    const second = await service.as(userId).deliveries(endpoint.id, 2, first.nextPageToken);

    expect([...first.deliveries, ...second.deliveries].map((d) => d.eventId)).toEqual(
      events.map((event) => event.id).reverse(),
    );
    expect(first.nextPageToken).not.toBe('');
    expect(second.nextPageToken).toBe('');
    expect(second.deliveries[0]!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, responseStatus: 200, succeeded: true }),
    ]);
    expect(second.deliveries[0]!.eventType).toBe('context.session.created');
    await expect(service.as(userId).deliveries(endpoint.id, 101)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(service.as(userId).deliveries(endpoint.id, 2, 'bogus!')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it("When user.deleted arrives (twice), then the user's endpoints, secrets, deliveries and attempts are erased, and no one else's", async () => {
    const leaving = randomUUID();
    const staying = randomUUID();
    const gone = await endpointFor(leaving, '/erase-me', ['*']);
    const kept = await endpointFor(staying, '/keep-me', ['*']);
    await service.publish(messageCreated(leaving));
    await service.publish(messageCreated(staying));
    await settled(leaving, gone.id);
    await settled(staying, kept.id);

    const deleted = createEvent({
      type: 'user.deleted',
      source: 'user-service',
      subject: leaving,
      data: { user_id: leaving, deleted_at: new Date().toISOString() },
    });
    await service.publish(deleted);
    await service.publish(deleted);

    await waitFor(
      async () =>
        (await service.query('SELECT 1 FROM webhook_endpoints WHERE user_id = $1', [leaving])).length === 0,
      { timeoutMs: 10_000, description: 'the endpoints to be erased' },
    );
    const left = await service.query<{ table: string; n: number }>(
      `SELECT 'secrets' AS table, count(*)::int AS n FROM webhook_secrets WHERE endpoint_id = $1
       UNION ALL SELECT 'deliveries', count(*)::int FROM webhook_deliveries WHERE user_id = $2
       UNION ALL SELECT 'attempts', count(*)::int FROM webhook_attempts a
                 JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.user_id = $2
       UNION ALL SELECT 'events', count(*)::int FROM platform_events WHERE data->>'user_id' = $2::text`,
      [gone.id, leaving],
    );
    expect(left.map((row) => row.n)).toEqual([0, 0, 0, 0]);
    expect(await deliveriesOf(kept.id)).toHaveLength(1);
    expect((await service.as(staying).get(kept.id)).endpoint!.enabled).toBe(true);
    await waitFor(
      async () =>
        (await service.query('SELECT 1 FROM processed_events WHERE event_id = $1', [deleted.id])).length ===
        1,
      { description: 'user.deleted to be processed' },
    );
  });

  it('When finished deliveries are older than WEBHOOK_LOG_RETENTION, then the purge job removes them with their attempts', async () => {
    const userId = randomUUID();
    const endpoint = await endpointFor(userId, '/purge', ['*']);
    await service.publish(messageCreated(userId));
    const old = await settled(userId, endpoint.id);
    const recent = await service.as(userId).test(endpoint.id);
    await waitFor(
      async () =>
        (await service.as(userId).delivery(endpoint.id, recent.delivery!.id)).delivery!.status ===
        'succeeded',
      { timeoutMs: 20_000, description: 'the test delivery' },
    );
    await service.query(
      "UPDATE webhook_deliveries SET updated_at = now() - interval '31 days' WHERE id = $1",
      [old.id],
    );

    // The job runs within 5 s of start and then holds its lock for the hour: free it to run it now.
    await service.app!.redis.del(`scheduler:integration-service:${WEBHOOK_LOG_PURGE_JOB}`);
    expect(await service.app!.scheduler.tick(WEBHOOK_LOG_PURGE_JOB)).toBe(true);

    const { deliveries } = await service.as(userId).deliveries(endpoint.id);
    expect(deliveries.map((delivery) => delivery.id)).toEqual([recent.delivery!.id]);
    expect(
      await service.query('SELECT 1 FROM webhook_attempts WHERE delivery_id = $1', [old.id]),
    ).toHaveLength(0);
  });

  it('When the service has run all of the above, then no signing secret appeared in any log line', () => {
    const logs = JSON.stringify(service.captured.lines());

    expect(logs).toContain('webhook attempt');
    for (const secret of secrets) expect(logs).not.toContain(secret.slice('whsec_'.length));
  });
});
