import type pg from 'pg';
import { openTestPool, waitFor } from '@te/testing';
import { cleanUp } from '../src/clean-up.js';
import { FaultService, PLATFORM_EVENTS_CONSUMER } from '../src/fault-service.js';
import { call, gatewayEnv, signUp, type Answer, type SignedUp } from '../src/gateway-client.js';
import {
  commitOutboxRows,
  notExactlyOnce,
  processedCount,
  recordedCopies,
  sleep,
  userRegisteredEvents,
} from '../src/platform-events.js';

const BULK = 1000;

interface Sample {
  route: string;
  sentAt: number;
  answer: Answer;
}

/**
 * A graceful stop (SIGTERM, as Kubernetes sends it) of each kind of process while clients keep
 * calling. user-service runs as two replicas on one database; the gateway reaches them through one
 * gRPC target listing both (`ipv4:a,b`, grpc-js pick_first: it uses the first, and when that one
 * goes away the channel reconnects to the other). The replica in use is stopped and a fresh process
 * started on its port (the new pod): no client request may fail. (Stopping the second replica right
 * after is not asserted: the channel may still be backing off from the first address — see the
 * README.) Then
 * integration-service is stopped in the middle of a bulk of events (none may be lost or applied
 * twice), and the gateway itself with requests in flight (they complete; new connections are refused).
 */
describe('Scenario 8: SIGTERM under steady load', () => {
  let users: FaultService;
  let replica: FaultService;
  let integration: FaultService;
  let gateway: FaultService;
  let userDb: pg.Pool;
  let integrationDb: pg.Pool;
  let dana: SignedUp;

  beforeAll(async () => {
    [users, integration] = await Promise.all([
      FaultService.create('user-service'),
      FaultService.create('integration-service'),
    ]);
    // The second replica shares the first one's database (its own, unused, is dropped at clean-up).
    replica = await FaultService.create(
      'user-service',
      { DATABASE_URL: users.databaseUrl },
      { label: 'user-service-replica' },
    );
    await Promise.all([users.start(), integration.start()]);
    await replica.start();
    gateway = await FaultService.create(
      'api-gateway',
      gatewayEnv({
        users: `ipv4:127.0.0.1:${users.grpcPort},127.0.0.1:${replica.grpcPort}`,
        integrations: integration.address,
      }),
    );
    await gateway.start();
    userDb = openTestPool(users.databaseUrl, 2);
    integrationDb = openTestPool(integration.databaseUrl, 2);
    dana = await signUp(gateway, 'term-dana');
  }, 240_000);

  afterAll(async () => {
    await cleanUp('08-sigterm-under-load', {
      services: [gateway, replica, users, integration],
      pools: [userDb, integrationDb],
    });
  }, 120_000);

  it('When the user-service replica in use is stopped with SIGTERM and replaced under load, then no client request fails, it exits 0, and every registration’s event arrives exactly once', async () => {
    const samples: Sample[] = [];
    const registered: string[] = [];
    let running = true;
    const client = async (route: string, send: () => Promise<Answer>, pauseMs: number) => {
      while (running) {
        const sentAt = Date.now();
        samples.push({ route, sentAt, answer: await send() });
        await sleep(pauseMs);
      }
    };
    let n = 0;
    const register = async () => {
      const answer = await call<{ user: { id: string } }>(gateway, 'POST', '/api/v1/auth/register', {
        json: { email: `term-${Date.now()}-${n++}@example.test`, password: 'sigterm load 42!', name: 'T' },
      });
      if (answer.status === 201) registered.push(answer.body.data!.user.id);
      return answer;
    };
    const load = Promise.all([
      client('GET /users/me', () => call(gateway, 'GET', '/api/v1/users/me', { headers: dana.auth }), 20),
      client('GET /users/me', () => call(gateway, 'GET', '/api/v1/users/me', { headers: dana.auth }), 20),
      client('POST /auth/register', register, 100),
    ]);

    await sleep(1_000);
    const stopped = users.service;
    const handledBy = (instance: { logLines(): Record<string, unknown>[] }) =>
      instance
        .logLines()
        .filter(
          (line) =>
            line['message'] === 'gRPC call handled' && line['grpc_service'] === 'te.user.v1.UserService',
        ).length;
    const handledBeforeTerm = handledBy(stopped);
    const at = Date.now();
    const exitCode = await users.stop(); // SIGTERM; resolves when the process has exited
    const term = { at, in: Date.now() - at };
    await users.start(); // the new pod, on the same port
    await sleep(1_000);
    running = false;
    await load;

    const failed = samples.filter((s) => s.answer.status >= 300 || s.answer.status === 0);
    expect(
      failed.map(
        (s) => `${s.route} ${s.answer.status} ${s.answer.networkError ?? s.answer.body.error?.code ?? ''}`,
      ),
    ).toEqual([]);
    // The stopped process was serving under load until the signal; the other replica served on.
    expect(handledBeforeTerm).toBeGreaterThan(20);
    expect(handledBy(replica)).toBeGreaterThan(0);
    expect(
      samples.filter((s) => s.sentAt >= term.at - 200 && s.sentAt <= term.at + term.in).length,
    ).toBeGreaterThan(0);
    expect(exitCode).toBe(0);
    expect(
      stopped.logLines().some((line) => line['message'] === 'stopped' && line['reason'] === 'SIGTERM'),
    ).toBe(true);

    // Every registration committed an event; each reaches integration-service exactly once.
    expect(registered.length).toBeGreaterThanOrEqual(10);
    const perUser = async () =>
      new Map(
        (
          await integrationDb.query<{ subject: string; n: number }>(
            `SELECT subject, count(*)::int AS n FROM platform_events
             WHERE type = 'user.registered' AND subject = ANY($1::text[]) GROUP BY subject`,
            [registered],
          )
        ).rows.map((row) => [row.subject, row.n]),
      );
    await waitFor(async () => (await perUser()).size === registered.length, {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: `the ${registered.length} registrations' events to be recorded`,
    });
    await sleep(1_000);
    expect(notExactlyOnce(registered, await perUser())).toEqual([]);
    process.stdout.write(
      `[fault-tests] user-service SIGTERM: ${samples.length} requests, ${registered.length} registrations, ` +
        `replica stopped in ${term.in} ms, 0 failed\n`,
    );
  });

  it(`When integration-service is stopped with SIGTERM in the middle of ${BULK} events, then it exits 0 and after a restart each is recorded exactly once`, async () => {
    const events = userRegisteredEvents(BULK);
    const ids = events.map((event) => event.id);
    const before = await processedCount(integrationDb);
    await commitOutboxRows(userDb, events);
    const atTerm = await waitFor(
      async () => {
        const processed = (await processedCount(integrationDb)) - before;
        return processed >= 200 && processed < BULK && processed;
      },
      { timeoutMs: 60_000, intervalMs: 10, description: 'the consumer to be in the middle of the bulk' },
    );
    const stopping = integration.service;
    const exitCode = await integration.stop();
    const processedAtExit = (await processedCount(integrationDb)) - before;
    expect(exitCode).toBe(0);
    expect(stopping.logLines().some((line) => line['message'] === 'stopped')).toBe(true);
    expect(processedAtExit).toBeLessThan(BULK);

    await integration.start();
    await waitFor(
      async () => {
        const copies = await recordedCopies(integrationDb);
        return ids.every((id) => copies.processed.has(id));
      },
      { timeoutMs: 90_000, intervalMs: 250, description: `all ${BULK} events to be recorded` },
    );
    await sleep(1_000);
    const copies = await recordedCopies(integrationDb);
    const mine = (map: Map<string, number>) => new Map([...map].filter(([id]) => ids.includes(id)));
    expect(notExactlyOnce(ids, mine(copies.platformEvents))).toEqual([]);
    expect(notExactlyOnce(ids, mine(copies.processed))).toEqual([]);
    const idSet = new Set(ids);
    const duplicates = integration
      .lines('duplicate event skipped')
      .filter(
        (line) => line['consumer'] === PLATFORM_EVENTS_CONSUMER && idSet.has(line['event_id'] as string),
      ).length;
    process.stdout.write(
      `[fault-tests] integration-service SIGTERM: at ${atTerm}/${BULK} processed, ${processedAtExit} when it exited 0, ` +
        `${duplicates} redelivered duplicates skipped\n`,
    );
  });

  it('When the gateway is stopped with SIGTERM while requests are in flight, then they complete, new connections are refused, and it exits 0', async () => {
    // Requests held in flight: both user-service replicas frozen for a moment (the gateway waits on them).
    users.pause();
    replica.pause();
    const inFlight = Array.from({ length: 5 }, () =>
      call(gateway, 'GET', '/api/v1/users/me', { headers: dana.auth }),
    );
    await sleep(300);
    const stopping = gateway.service;
    const exited = gateway.stop();
    // Stopped listening at once: a new connection is refused (a load balancer would send it elsewhere).
    const refused = await waitFor(
      async () => {
        // (A kept-alive idle socket is closed first: that attempt fails with a socket error.)
        const answer = await call(gateway, 'GET', '/healthz', { timeoutMs: 1_000 });
        return answer.networkError === 'ECONNREFUSED' && answer;
      },
      { timeoutMs: 5_000, intervalMs: 50, description: 'the gateway to stop accepting connections' },
    );
    expect(refused.status).toBe(0);
    expect(stopping.process.exitCode).toBeNull(); // still draining
    users.resume();
    replica.resume();
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    // Then it finishes its shutdown: exit 0 within SHUTDOWN_GRACE_MS (10 s here), not the forced exit 1.
    expect(await exited).toBe(0);
    expect(stopping.logLines().some((line) => line['message'] === 'stopped')).toBe(true);
  });
});
