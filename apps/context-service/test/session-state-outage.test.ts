import { randomUUID } from 'node:crypto';
import type { ServiceTestEnv } from '@te/testing';
import {
  callsAs,
  createContextEnv,
  startContextService,
  type RunningContextService,
} from './support/context.harness.js';

// The session state cache is an optimisation: with Redis gone, requests are served from PostgreSQL.
describe('session state cache outage', () => {
  let env: ServiceTestEnv;
  let service: RunningContextService;

  beforeAll(async () => {
    env = await createContextEnv();
    service = await startContextService(env);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await env?.cleanup();
  }, 60_000);

  it('When Redis is unreachable, then sessions and messages still work from the database and the outage is logged', async () => {
    const alice = callsAs(service.client, randomUUID());
    const { session } = await alice.create({ title: 'resilient' });

    service.app.redis.disconnect();
    const { message, reply } = await alice.post({ sessionId: session!.id, content: 'still here?' });
    const { session: read } = await alice.get(session!.id);
    const { messages } = await alice.messages({ sessionId: session!.id });

    expect(read?.title).toBe('resilient');
    expect(messages?.map((m) => m.id)).toEqual([message!.id, reply!.id]);
    expect(service.logs.lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'warn',
          message: 'session state cache unavailable, using the database',
        }),
      ]),
    );
  });
});
