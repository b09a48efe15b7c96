import { randomUUID } from 'node:crypto';
import { createEvent } from '@te/events';
import { waitFor } from '@te/testing';
import { SecretCipher } from '../src/delivery/secret-cipher.js';
import {
  failure,
  messageCreated,
  sessionCreated,
  TEST_ENCRYPTION_KEY,
  WebhookReceiver,
  WebhookService,
  type ReceivedRequest,
} from './support/webhook-harness.js';

// Connectors end to end (decision 0024), in-process on real PostgreSQL, Redis and RabbitMQ: events
// published on the run's exchange → connector deliveries in the webhook schedule → a loopback server
// answering as Slack's incoming webhooks do (200 "ok", 400 invalid_payload, 403/404/410, 429 with
// Retry-After) and a generic HTTP receiver that checks its auth header.

const SCHEDULE_STEP_MS = 300;
let service: WebhookService;
/** Speaks Slack's incoming-webhook protocol: 200 "ok" unless a test queues another answer. */
let slack: WebhookReceiver;
let receiver: WebhookReceiver;
/** Every credential handed to the service here: none may appear in a log line or an answer. */
const credentials: string[] = [];

beforeAll(async () => {
  slack = await WebhookReceiver.start();
  receiver = await WebhookReceiver.start();
  service = await WebhookService.create({
    WEBHOOK_RETRY_SCHEDULE: ['0', ...Array(9).fill(`${SCHEDULE_STEP_MS}ms`)].join(','),
    WEBHOOK_RETRY_AFTER_MAX: '10s',
    WEBHOOK_DISABLE_AFTER: '1h',
    CONNECTOR_SLACK_WEBHOOK_PREFIXES: slack.url('/services/'),
  });
}, 60_000);

afterAll(async () => {
  await service?.dispose();
  await slack?.close();
  await receiver?.close();
}, 30_000);

/** A fresh Slack hook path: /services/T…/B…/<24-character token>. */
function slackHook(): { route: string; url: string } {
  const token = randomUUID().replaceAll('-', '').slice(0, 24);
  const route = `/services/T${token.slice(0, 8)}/B${token.slice(8, 16)}/${token}`;
  credentials.push(slack.url(route));
  return { route, url: slack.url(route) };
}

async function slackConnector(userId: string, eventTypes = ['context.message.created']) {
  const hook = slackHook();
  const connector = await service
    .connectorsAs(userId)
    .create({ kind: 'slack', name: 'team channel', eventTypes, credential: hook.url });
  return { ...connector, route: hook.route, hookUrl: hook.url };
}

const slackBody = (request: ReceivedRequest) =>
  JSON.parse(request.body) as { text: string; blocks: { type: string }[] };

const deliveriesOf = (connectorId: string) =>
  service.query<{ id: string; status: string; attempt_count: number; event_id: string | null }>(
    'SELECT id, status, attempt_count, event_id FROM webhook_deliveries WHERE connector_id = $1',
    [connectorId],
  );

/** Resolves once the consumer has recorded these events (their deliveries are written with them). */
const recorded = (...eventIds: string[]) =>
  waitFor(
    async () =>
      (await service.query('SELECT 1 FROM platform_events WHERE id = ANY($1::uuid[])', [eventIds])).length ===
      eventIds.length,
    { timeoutMs: 10_000, description: 'the events to be recorded' },
  );

/** The connector's one delivery, once it has reached `status`. */
function settled(userId: string, connectorId: string, status: string, count = 1) {
  return waitFor(
    async () => {
      const { deliveries } = await service.connectorsAs(userId).deliveries(connectorId);
      return deliveries.length === count && deliveries[0]!.status === status && deliveries[0];
    },
    { timeoutMs: 20_000, description: `the connector delivery to be ${status}` },
  );
}

describe('connectors', () => {
  it('When a subscribed event is published, then the Slack channel gets a readable message without user content, and nothing else arrives', async () => {
    const alice = randomUUID();
    const connector = await slackConnector(alice, ['context.message.created', 'user.registered']);
    const other = await slackConnector(randomUUID(), ['*']);
    const registered = createEvent({
      type: 'user.registered',
      source: 'user-service',
      subject: alice,
      data: {
        user_id: alice,
        email: 'zed.private@example.com',
        name: 'Zed <!channel> Private',
        roles: ['user'],
        registered_at: new Date().toISOString(),
      },
    });
    const message = messageCreated(alice);
    const notSubscribed = sessionCreated(alice);

    await service.publish(notSubscribed);
    await service.publish(registered);
    await service.publish(message);

    const [first, second] = await slack.waitFor(connector.route, 2);
    const texts = [first!, second!].map((request) => slackBody(request).text).sort();
    const sessionId = (message.data as { session_id: string }).session_id;
    expect(texts).toEqual([
      `A message was posted in session \`${sessionId}\` (5 characters).`,
      'Your TE-explico account was created.',
    ]);
    expect(first!.headers['content-type']).toBe('application/json');
    expect(slackBody(first!).blocks.map((block) => block.type)).toEqual(['section', 'context']);
    // The user's name and email are in the event, never in the message.
    const sent = slack
      .at(connector.route)
      .map((request) => request.body)
      .join('\n');
    for (const personal of ['zed.private', 'Zed', '<!channel>', 'Private'])
      expect(sent).not.toContain(personal);

    // The type filter: the session event made no delivery; another user's connector got nothing.
    await recorded(notSubscribed.id, registered.id, message.id);
    const rows = await deliveriesOf(connector.id!);
    expect(rows.map((row) => row.event_id).sort()).toEqual([registered.id, message.id].sort());
    expect(await deliveriesOf(other.id!)).toEqual([]);
    expect(slack.at(other.route)).toEqual([]);
    const delivery = await settled(alice, connector.id!, 'succeeded', 2);
    expect(delivery.connectorId).toBe(connector.id);
    expect(delivery.attempts[0]).toMatchObject({
      succeeded: true,
      responseStatus: 200,
      responseExcerpt: 'ok',
    });
  });

  it('When Slack answers 429 with Retry-After, then the next attempt waits at least that long and succeeds', async () => {
    const alice = randomUUID();
    const connector = await slackConnector(alice);
    slack.queue(connector.route, [{ status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }]);

    await service.publish(messageCreated(alice));

    const [limited, accepted] = await slack.waitFor(connector.route, 2);
    // Retry-After (1 s) moved the attempt later than the schedule's 300 ms.
    expect(accepted!.at - limited!.at).toBeGreaterThanOrEqual(950);
    const delivery = await settled(alice, connector.id!, 'succeeded');
    expect(delivery.attempts.map((attempt) => attempt.responseStatus)).toEqual([200, 429]);
    expect((await service.connectorsAs(alice).get(connector.id!)).enabled).toBe(true);
  });

  it('When Slack answers 410 channel_is_archived, then the connector is disabled with that reason and gets no more deliveries', async () => {
    const alice = randomUUID();
    const connector = await slackConnector(alice);
    slack.queue(connector.route, [], { status: 410, body: 'channel_is_archived' });

    await service.publish(messageCreated(alice));

    const delivery = await settled(alice, connector.id!, 'failed');
    expect(delivery.attempts).toHaveLength(1);
    const disabled = await service.connectorsAs(alice).get(connector.id!);
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'channel_is_archived' });
    expect(disabled.disabledAt).not.toBe('');

    const later = [messageCreated(alice), messageCreated(alice)];
    for (const event of later) await service.publish(event);
    await recorded(...later.map((event) => event.id)); // recorded, but no delivery for a disabled connector
    expect(await deliveriesOf(connector.id!)).toHaveLength(1);
    expect(slack.at(connector.route)).toHaveLength(1);

    // Its owner enables it again: the reason is cleared.
    const enabled = await service.connectorsAs(alice).update({ id: connector.id!, enabled: true });
    expect(enabled).toMatchObject({ enabled: true, disabledReason: '', disabledAt: '' });
  });

  it('When Slack answers 400 invalid_payload, then that delivery fails without a retry and the connector stays enabled', async () => {
    const alice = randomUUID();
    const connector = await slackConnector(alice);
    slack.queue(connector.route, [{ status: 400, body: 'invalid_payload' }]);

    await service.publish(messageCreated(alice));
    const failed = await settled(alice, connector.id!, 'failed');
    expect(failed.attempts.map((a) => [a.responseStatus, a.responseExcerpt])).toEqual([
      [400, 'invalid_payload'],
    ]);

    // A later event goes through (200): by then the failed one would have been retried (300 ms steps).
    await service.publish(messageCreated(alice));
    await slack.waitFor(connector.route, 2);
    await settled(alice, connector.id!, 'succeeded', 2);
    await new Promise((resolve) => setTimeout(resolve, 3 * SCHEDULE_STEP_MS));
    expect(slack.at(connector.route)).toHaveLength(2);
    const rows = await deliveriesOf(connector.id!);
    expect(rows.map((row) => row.attempt_count)).toEqual([1, 1]);
    expect((await service.connectorsAs(alice).get(connector.id!)).enabled).toBe(true);
  });

  it('When Slack answers 403 invalid_token or 404 no_service, then the connector is disabled', async () => {
    for (const [status, code] of [
      [403, 'invalid_token'],
      [404, 'no_service'],
    ] as const) {
      const alice = randomUUID();
      const connector = await slackConnector(alice);
      slack.queue(connector.route, [], { status, body: code });
      await service.publish(messageCreated(alice));
      await settled(alice, connector.id!, 'failed');
      expect(await service.connectorsAs(alice).get(connector.id!)).toMatchObject({
        enabled: false,
        disabledReason: code,
      });
    }
  });

  it('When an http connector is subscribed, then its URL receives the event JSON with the auth header, and a default Authorization header works too', async () => {
    const alice = randomUUID();
    const apiKey = `sk_live_${randomUUID().replaceAll('-', '')}`;
    const bearer = `Bearer tok_${randomUUID().replaceAll('-', '')}`;
    credentials.push(apiKey, bearer);
    const custom = await service.connectorsAs(alice).create({
      kind: 'http',
      name: 'ticketing',
      eventTypes: ['*'],
      settings: { url: receiver.url('/http/custom'), authHeader: 'X-Api-Key' },
      credential: apiKey,
    });
    const standard = await service.connectorsAs(alice).create({
      kind: 'http',
      name: 'crm',
      eventTypes: ['context.message.created'],
      settings: { url: receiver.url('/http/standard') },
      credential: bearer,
    });
    const anonymous = await service.connectorsAs(alice).create({
      kind: 'http',
      name: 'open',
      eventTypes: ['context.message.created'],
      settings: { url: receiver.url('/http/open') },
    });
    expect(custom).toMatchObject({
      settings: { url: receiver.url('/http/custom'), authHeader: 'x-api-key' },
      hasCredential: true,
      credentialHint: `…${apiKey.slice(-4)}`,
    });
    expect(anonymous).toMatchObject({ hasCredential: false, credentialHint: '' });
    const event = messageCreated(alice);

    await service.publish(event);

    const [viaCustom] = await receiver.waitFor('/http/custom', 1);
    const [viaStandard] = await receiver.waitFor('/http/standard', 1);
    const [viaOpen] = await receiver.waitFor('/http/open', 1);
    const expected = { type: event.type, timestamp: event.time, data: event.data };
    for (const request of [viaCustom!, viaStandard!, viaOpen!]) {
      expect(JSON.parse(request.body)).toEqual(expected);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['idempotency-key']).toBe(`msg_${event.id.replaceAll('-', '')}`);
    }
    expect(viaCustom!.headers['x-api-key']).toBe(apiKey);
    expect(viaCustom!.headers['authorization']).toBeUndefined();
    expect(viaStandard!.headers['authorization']).toBe(bearer);
    expect(viaOpen!.headers['authorization']).toBeUndefined();

    // Replacing the credential: the next delivery carries the new one; an empty one removes it.
    const rotated = `Bearer tok_${randomUUID().replaceAll('-', '')}`;
    credentials.push(rotated);
    const updated = await service.connectorsAs(alice).update({ id: standard.id!, credential: rotated });
    expect(updated.credentialHint).toBe(`…${rotated.slice(-4)}`);
    await service.publish(messageCreated(alice));
    const [, again] = await receiver.waitFor('/http/standard', 2);
    expect(again!.headers['authorization']).toBe(rotated);
    const removed = await service.connectorsAs(alice).update({ id: standard.id!, credential: '' });
    expect(removed).toMatchObject({ hasCredential: false, credentialHint: '' });
  });

  it('When connectors are stored, then no credential is in the database in plaintext, in an answer or in a log line', async () => {
    const alice = randomUUID();
    const connector = await slackConnector(alice);
    await service.publish(messageCreated(alice));
    await slack.waitFor(connector.route, 1);
    await service.connectorsAs(alice).test(connector.id!);
    await slack.waitFor(connector.route, 2);

    const stored = await service.query<{ dump: string }>(
      `SELECT concat_ws('|', id, name, settings::text, credential_hint, credential_key_id,
                        encode(credential_ciphertext, 'escape')) AS dump FROM connectors`,
    );
    const tokens = credentials.map((credential) => credential.split('/').at(-1)!);
    const answers = JSON.stringify([
      await service.connectorsAs(alice).list(),
      await service.connectorsAs(alice).get(connector.id!),
      await service.connectorsAs(alice).deliveries(connector.id!),
    ]);
    const logs = JSON.stringify(service.captured.lines());
    const deliveries = JSON.stringify(
      await service.query(
        'SELECT * FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id',
      ),
    );
    expect(stored.length).toBeGreaterThan(0);
    expect(logs).toContain('connector attempt');
    for (const secret of [...credentials, ...tokens]) {
      expect(JSON.stringify(stored)).not.toContain(secret);
      expect(answers).not.toContain(secret);
      expect(logs).not.toContain(secret);
      expect(deliveries).not.toContain(secret);
    }
    expect(slackBody(slack.at(connector.route)[1]!).text).toBe(
      'Test message from TE-explico: this Slack connector works.',
    );
  });

  it('When the input is invalid, then VALIDATION_FAILED names each field; another user’s connector is NOT_FOUND', async () => {
    const alice = randomUUID();
    const as = service.connectorsAs(alice);
    const cases: [Parameters<typeof as.create>[0], string[]][] = [
      [{ kind: 'teams', name: 'x', eventTypes: ['*'] }, ['kind']],
      [{ kind: 'slack', name: '', eventTypes: ['nope'] }, ['name', 'event_types', 'credential']],
      [
        {
          kind: 'slack',
          name: 'x',
          eventTypes: ['*'],
          credential: 'https://evil.example.com/services/T1/B1/abcdefgh12',
        },
        ['credential'],
      ],
      [
        {
          kind: 'slack',
          name: 'x',
          eventTypes: ['*'],
          credential: slackHook().url,
          settings: { url: 'https://x.example' },
        },
        ['settings.url'],
      ],
      [
        {
          kind: 'http',
          name: 'x',
          eventTypes: ['*'],
          settings: { url: 'https://10.1.2.3/hook', authHeader: 'Host' },
        },
        ['settings.url', 'settings.auth_header'],
      ],
      [
        {
          kind: 'http',
          name: 'x',
          eventTypes: ['*'],
          settings: { url: 'ftp://files.example.com/' },
          credential: 'a\r\nb',
        },
        ['settings.url', 'credential'],
      ],
    ];
    for (const [request, fields] of cases) {
      const error = await failure(as.create(request));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect((error.fields ?? []).map((field) => field.field).sort()).toEqual([...fields].sort());
      expect(JSON.stringify(error)).not.toContain('\r\n');
    }
    expect(await as.list()).toEqual({ connectors: [] });

    const bobs = await slackConnector(randomUUID());
    for (const attempt of [
      as.get(bobs.id!),
      as.update({ id: bobs.id!, name: 'stolen' }),
      as.remove(bobs.id!),
      as.test(bobs.id!),
      as.deliveries(bobs.id!),
    ]) {
      expect((await failure(attempt)).code).toBe('NOT_FOUND');
    }
    expect((await failure(as.get('not-a-uuid'))).code).toBe('VALIDATION_FAILED');
    expect((await failure(service.connectorsAs(alice).update({ id: bobs.id!, credential: '' }))).code).toBe(
      'NOT_FOUND',
    );
  });

  it('When user.deleted arrives, then the user’s connectors, credentials, deliveries and attempts are erased, and no one else’s', async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const aliceConnector = await slackConnector(alice);
    const bobConnector = await slackConnector(bob);
    await service.publish(messageCreated(alice));
    await service.publish(messageCreated(bob));
    await settled(alice, aliceConnector.id!, 'succeeded');
    await settled(bob, bobConnector.id!, 'succeeded');

    await service.publish(
      createEvent({ type: 'user.deleted', source: 'user-service', subject: alice, data: { user_id: alice } }),
    );

    await waitFor(
      async () => (await service.query('SELECT 1 FROM connectors WHERE user_id = $1', [alice])).length === 0,
      { timeoutMs: 10_000, description: 'alice’s connectors to be erased' },
    );
    expect(await deliveriesOf(aliceConnector.id!)).toEqual([]);
    expect(
      await service.query(
        'SELECT 1 FROM webhook_attempts a LEFT JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.id IS NULL',
      ),
    ).toEqual([]);
    expect(await service.connectorsAs(alice).list()).toEqual({ connectors: [] });
    expect(await deliveriesOf(bobConnector.id!)).toHaveLength(1);
    expect((await service.connectorsAs(bob).get(bobConnector.id!)).hasCredential).toBe(true);
  });

  // Last: it restarts the service with another key.
  it('When a new encryption key is configured and the old one retired, then old credentials still decrypt and are re-encrypted under the new key', async () => {
    const alice = randomUUID();
    const connector = await slackConnector(alice);
    const oldKeyId = SecretCipher.fromConfig(TEST_ENCRYPTION_KEY).currentKeyId;
    const newKey = Buffer.alloc(32, 9).toString('base64');
    const newKeyId = SecretCipher.fromConfig(newKey).currentKeyId;
    const keyOf = async () =>
      (
        await service.query<{ credential_key_id: string }>(
          'SELECT credential_key_id FROM connectors WHERE id = $1',
          [connector.id],
        )
      )[0]!.credential_key_id;
    expect(await keyOf()).toBe(oldKeyId);

    await service.restartWith({
      WEBHOOK_SECRET_ENCRYPTION_KEY: newKey,
      WEBHOOK_SECRET_DECRYPTION_KEYS: TEST_ENCRYPTION_KEY,
    });
    await service.publish(messageCreated(alice));

    // Sent to the right URL: the credential opened with the retired key.
    await slack.waitFor(connector.route, 1);
    await settled(alice, connector.id!, 'succeeded');
    expect(await keyOf()).toBe(newKeyId);

    // Once re-encrypted, the retired key is no longer needed.
    await service.restartWith({ WEBHOOK_SECRET_DECRYPTION_KEYS: '' });
    await service.connectorsAs(alice).test(connector.id!);
    await slack.waitFor(connector.route, 2);
    await settled(alice, connector.id!, 'succeeded', 2);
  });
});
