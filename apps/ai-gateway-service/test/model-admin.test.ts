import { randomUUID } from 'node:crypto';
import { callUnary, createGrpcClient, loadProtos, type teAiV1 } from '@te/grpc';
import { createMetrics, scopesForRoles, SCOPES, type Principal } from '@te/platform';
import { waitFor, type ServiceTestEnv } from '@te/testing';
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

// te.ai.v1.ModelAdmin over real gRPC, on the machine's PostgreSQL and RabbitMQ: administrators create
// versions, move aliases and change weights, retire versions; Infer and ListModels follow at once on
// the replica that wrote, and on another replica within its refresh period.

type AdminClient = InstanceType<ReturnType<typeof loadProtos>['te']['ai']['v1']['ModelAdmin']>;

const admin: Principal = {
  userId: randomUUID(),
  roles: ['user', 'admin'],
  scopes: scopesForRoles(['user', 'admin']),
  authMethod: 'jwt',
};
const user: Principal = { ...userPrincipal(randomUUID()), scopes: scopesForRoles(['user']) };
/** An admin's API key that may read the registry but not change it. */
const readOnlyAdmin: Principal = { ...admin, scopes: [SCOPES.adminModelsRead], authMethod: 'api_key' };

/** A second version of the seeded local model (the built-in provider answers without a network). */
const V2: teAiV1.CreateModelVersionRequest = {
  model: 'local-explainer',
  version: '2',
  providerId: 'local',
  providerModel: 'extractive-v2',
  parametersJson: '{"temperature":0.2}',
  capabilities: { vision: false, streaming: true, contextWindow: 16_000, maxOutputTokens: 2_000 },
  inputPricePerMillion: '0.15',
  outputPricePerMillion: '12345678.999999',
};

describe('te.ai.v1.ModelAdmin', () => {
  let env: ServiceTestEnv;
  let service: RunningAiGateway;
  let client: AdminClient;
  let events: Awaited<ReturnType<typeof observeEvents>>;
  let database: ReturnType<typeof openDb>;
  const draws: number[] = [];

  beforeAll(async () => {
    env = await createAiGatewayEnv();
    events = await observeEvents(env, ['ai.registry.changed']);
    service = await startAiGateway(
      env,
      // Long: what this replica serves right after a change can only come from the change itself.
      { REGISTRY_REFRESH_MS: '600000' },
      { random: () => draws.shift() ?? 0 },
    );
    client = adminClient(service);
    database = openDb(env);
  });

  afterAll(async () => {
    client?.close();
    await database?.db.$disconnect();
    await database?.pool.end();
    await service?.stop();
    await events?.close();
    await env?.cleanup();
  });

  const adminCall = <M extends keyof teAiV1.ModelAdminClient & string>(
    principal: Principal | undefined,
    method: M,
    request: unknown,
  ) =>
    as(principal, () =>
      callUnary(client, method as 'ListAliases', request as teAiV1.ListAliasesRequest),
    ) as Promise<never>;
  const listModels = async () => (await as(user, () => callUnary(service.catalog, 'ListModels', {}))).models;
  const versions = (principal: Principal = admin) =>
    as(principal, () => callUnary(client, 'ListModelVersions', {}));
  const aliases = () => as(admin, () => callUnary(client, 'ListAliases', {}));
  const setTargets = (alias: string, targets: teAiV1.AliasTarget[], principal: Principal = admin) =>
    as(principal, () => callUnary(client, 'SetAliasTargets', { alias, targets }));
  /** Registry changes committed so far (each write enqueues one in its transaction). */
  const changesWritten = async () =>
    Number(
      (
        await database.pool.query<{ count: string }>(
          `SELECT count(*) FROM outbox_events WHERE type = 'ai.registry.changed'`,
        )
      ).rows[0].count,
    );
  const changed = (data: Record<string, string>) =>
    waitFor(() => events.received.find((event) => JSON.stringify(event.data) === JSON.stringify(data)), {
      timeoutMs: 15_000,
      description: `ai.registry.changed ${JSON.stringify(data)}`,
    });

  it('When the caller is not an admin, or lacks the scope, then FORBIDDEN and nothing changes; without a principal UNAUTHENTICATED', async () => {
    const written = await changesWritten();
    const writes: [string, unknown][] = [
      ['CreateModelVersion', { ...V2, version: 'forbidden' }],
      ['UpdateModelVersionLifecycle', { name: 'local-explainer@1', retiresAt: '2020-01-01T00:00:00Z' }],
      ['SetAliasTargets', { alias: 'explainer', targets: [{ version: 'local-explainer@1', weight: 1 }] }],
      ['DeleteAlias', { alias: 'explainer@stable' }],
    ];
    for (const [method, request] of [...writes, ['ListModelVersions', {}], ['ListAliases', {}]] as const) {
      expect([method, (await failure(adminCall(user, method as 'ListAliases', request))).code]).toEqual([
        method,
        'FORBIDDEN',
      ]);
      expect([method, (await failure(adminCall(undefined, method as 'ListAliases', request))).code]).toEqual([
        method,
        'UNAUTHENTICATED',
      ]);
    }
    for (const [method, request] of writes)
      expect([
        method,
        (await failure(adminCall(readOnlyAdmin, method as 'ListAliases', request))).code,
      ]).toEqual([method, 'FORBIDDEN']);

    expect((await versions(readOnlyAdmin)).versions.map((version) => version.name)).toEqual([
      'local-explainer@1',
    ]);
    expect((await aliases()).aliases).toEqual([
      expect.objectContaining({
        name: 'explainer',
        targets: [{ version: 'local-explainer@1', weight: 100 }],
      }),
      expect.objectContaining({ name: 'explainer@stable' }),
    ]);
    expect(await changesWritten()).toBe(written);
  });

  it('When an admin creates a version, then it is listed exactly, published, and callable at once on this replica', async () => {
    const { version } = await as(admin, () => callUnary(client, 'CreateModelVersion', V2));

    expect(version).toEqual({
      name: 'local-explainer@2',
      model: 'local-explainer',
      version: '2',
      providerId: 'local',
      providerModel: 'extractive-v2',
      parametersJson: '{"temperature":0.2}',
      capabilities: { vision: false, streaming: true, contextWindow: 16_000, maxOutputTokens: 2_000 },
      inputPricePerMillion: '0.150000',
      outputPricePerMillion: '12345678.999999',
      deprecatedAt: '',
      retiresAt: '',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      status: 'active',
      providerConfigured: true,
    });
    expect((await versions()).versions.find((entry) => entry.name === 'local-explainer@2')).toEqual(version);
    await changed({ version: 'local-explainer@2' });
    // No waiting: the answer came after this replica reloaded.
    expect((await listModels()).map((model) => model.name)).toContain('local-explainer@2');
    expect(
      await infer(
        service,
        user,
        textRequest(randomUUID(), 'local-explainer@2', 'What does it say?', 'Disk full'),
      ),
    ).toMatchObject({ modelVersion: 'local-explainer@2', provider: 'local' });
  });

  it('When an admin moves "explainer" to the new version, then Infer answers from it at once', async () => {
    const { alias, created } = await setTargets('explainer', [{ version: 'local-explainer@2', weight: 100 }]);

    expect(created).toBe(false);
    expect(alias).toMatchObject({
      name: 'explainer',
      targets: [{ version: 'local-explainer@2', weight: 100 }],
    });
    expect(
      await infer(service, user, textRequest(randomUUID(), 'explainer', 'What does it say?', 'Disk full')),
    ).toMatchObject({ modelVersion: 'local-explainer@2' });
    expect((await listModels()).find((model) => model.name === 'explainer')?.capabilities).toMatchObject({
      contextWindow: 16_000,
    });
    await changed({ alias: 'explainer' });
  });

  it('When the weights make a canary, then the draw splits the traffic in proportion', async () => {
    const { alias } = await setTargets('explainer', [
      { version: 'local-explainer@1', weight: 9_000 },
      { version: 'local-explainer@2', weight: 1_000 },
    ]);
    expect(alias?.targets).toEqual([
      { version: 'local-explainer@1', weight: 9_000 },
      { version: 'local-explainer@2', weight: 1_000 },
    ]);

    // Draws scaled to [0, 10000): 0.8999 → 8999 (the stable 90 %), 0.9 → 9000 (the canary's 10 %).
    draws.push(0.8999, 0.9);
    const first = await infer(service, user, textRequest(randomUUID(), 'explainer', 'Why?', 'Disk full'));
    const second = await infer(service, user, textRequest(randomUUID(), 'explainer', 'Why?', 'Disk full'));
    expect([first.modelVersion, second.modelVersion]).toEqual(['local-explainer@1', 'local-explainer@2']);
  });

  it('When an admin creates a new alias, then it is created and callable', async () => {
    const { alias, created } = await setTargets('canary', [{ version: 'local-explainer@2', weight: 1 }]);

    expect([created, alias?.name]).toEqual([true, 'canary']);
    expect((await aliases()).aliases.map((entry) => entry.name)).toEqual([
      'canary',
      'explainer',
      'explainer@stable',
    ]);
    expect(
      await infer(service, user, textRequest(randomUUID(), 'canary', 'Why?', 'Disk full')),
    ).toMatchObject({
      modelVersion: 'local-explainer@2',
    });
  });

  it('When a version is retired, then Infer and ListModels no longer offer it and it cannot take traffic; cleared, it is back', async () => {
    const retiresAt = new Date(Date.now() - 60_000).toISOString();
    const { version } = await as(admin, () =>
      callUnary(client, 'UpdateModelVersionLifecycle', {
        name: 'local-explainer@2',
        deprecatedAt: '2020-01-01T00:00:00+02:00',
        retiresAt,
      }),
    );

    expect(version).toMatchObject({
      deprecatedAt: '2019-12-31T22:00:00.000Z',
      retiresAt,
      status: 'retired',
      providerConfigured: true,
      inputPricePerMillion: '0.150000',
    });
    await changed({ version: 'local-explainer@2' });
    const names = (await listModels()).map((model) => model.name);
    expect(names).not.toContain('local-explainer@2');
    expect(names).not.toContain('canary'); // its only target is retired
    const request = textRequest(randomUUID(), 'local-explainer@2', 'Why?', 'Disk full');
    expect((await failure(infer(service, user, request))).code).toBe('NOT_FOUND');
    expect((await failure(infer(service, user, textRequest(randomUUID(), 'canary', 'Why?')))).code).toBe(
      'NOT_FOUND',
    );
    // The canary's share of "explainer" goes to the stable version.
    draws.push(0.95);
    expect(
      (await infer(service, user, textRequest(randomUUID(), 'explainer', 'Why?', 'Disk full'))).modelVersion,
    ).toBe('local-explainer@1');
    // Traffic cannot be sent to a retired version; draining it (weight 0) is fine.
    const moved = await failure(setTargets('explainer', [{ version: 'local-explainer@2', weight: 5 }]));
    expect([moved.code, moved.fields]).toEqual([
      'VALIDATION_FAILED',
      [
        {
          field: 'targets[0].version',
          message: '"local-explainer@2" is retired: remove it or give it weight 0',
        },
      ],
    ]);
    await setTargets('explainer', [
      { version: 'local-explainer@1', weight: 1 },
      { version: 'local-explainer@2', weight: 0 },
    ]);

    // Only the retirement is cleared: the deprecation stays.
    const cleared = await as(admin, () =>
      callUnary(client, 'UpdateModelVersionLifecycle', { name: 'local-explainer@2', retiresAt: '' }),
    );
    expect(cleared.version).toMatchObject({
      deprecatedAt: '2019-12-31T22:00:00.000Z',
      retiresAt: '',
      status: 'deprecated',
    });
    expect((await listModels()).map((model) => model.name)).toEqual(
      expect.arrayContaining(['canary', 'local-explainer@2']),
    );
  });

  it('When requests are invalid, then VALIDATION_FAILED lists the fields; taken names CONFLICT; unknown names NOT_FOUND', async () => {
    const written = await changesWritten();
    const ours = await failure(
      adminCall(admin, 'CreateModelVersion', {
        ...V2,
        version: '3',
        parametersJson: '[1]',
        deprecatedAt: 'tomorrow',
        retiresAt: '2026-02-30T00:00:00Z',
      }),
    );
    expect([ours.code, ours.fields?.map((field) => field.field)]).toEqual([
      'VALIDATION_FAILED',
      ['parameters_json', 'deprecated_at', 'retires_at'],
    ]);
    const noCapabilities = await failure(
      adminCall(admin, 'CreateModelVersion', { ...V2, version: '3', capabilities: undefined }),
    );
    expect(noCapabilities.fields).toEqual([{ field: 'capabilities', message: 'is required' }]);
    const repository = await failure(
      adminCall(admin, 'CreateModelVersion', {
        ...V2,
        model: 'Local Explainer',
        inputPricePerMillion: '0.1234567',
      }),
    );
    expect(repository.fields?.map((field) => field.field)).toEqual(['model', 'input_price_per_million']);
    expect((await failure(adminCall(admin, 'CreateModelVersion', V2))).code).toBe('CONFLICT');
    expect(
      (
        await failure(
          adminCall(admin, 'CreateModelVersion', { ...V2, model: 'explainer', version: 'stable' }),
        )
      ).code,
    ).toBe('CONFLICT');

    const backwards = await failure(
      adminCall(admin, 'UpdateModelVersionLifecycle', {
        name: 'local-explainer@1',
        deprecatedAt: '2031-01-01T00:00:00Z',
        retiresAt: '2030-01-01T00:00:00Z',
      }),
    );
    expect(backwards.fields).toEqual([{ field: 'deprecated_at', message: 'must not be after retires_at' }]);
    const nothing = await failure(
      adminCall(admin, 'UpdateModelVersionLifecycle', { name: 'local-explainer@1' }),
    );
    expect(nothing.code).toBe('VALIDATION_FAILED');
    const unknown = await failure(
      adminCall(admin, 'UpdateModelVersionLifecycle', { name: 'nope@1', retiresAt: '' }),
    );
    expect(unknown.code).toBe('NOT_FOUND');

    const weights = await failure(
      setTargets('explainer', [
        { version: 'local-explainer@1', weight: 10_001 },
        { version: 'local-explainer@2', weight: -1 },
      ]),
    );
    expect(weights.fields?.map((field) => field.field)).toEqual(['targets[0].weight', 'targets[1].weight']);
    const drained = await failure(setTargets('explainer', [{ version: 'local-explainer@1', weight: 0 }]));
    expect(drained.fields).toEqual([{ field: 'targets', message: 'at least one weight must be above 0' }]);
    const many = await failure(
      setTargets(
        'explainer',
        Array.from({ length: 11 }, (_, index) => ({ version: `local-explainer@${index}`, weight: 1 })),
      ),
    );
    expect(many.fields).toEqual(
      expect.arrayContaining([{ field: 'targets', message: 'must have 1–10 targets' }]),
    );
    const missing = await failure(setTargets('explainer', [{ version: 'local-explainer@9', weight: 1 }]));
    expect(missing.fields).toEqual([
      { field: 'targets[0].version', message: 'no model version "local-explainer@9"' },
    ]);
    expect(
      (await failure(setTargets('local-explainer@1', [{ version: 'local-explainer@2', weight: 1 }]))).code,
    ).toBe('CONFLICT');
    expect((await failure(adminCall(admin, 'DeleteAlias', { alias: 'nope' }))).code).toBe('NOT_FOUND');
    expect((await failure(adminCall(admin, 'DeleteAlias', { alias: 'explainer' }))).code).toBe(
      'PRECONDITION_FAILED',
    );

    // Nothing was written: no change was published, "explainer" still points where it did.
    expect((await aliases()).aliases.find((alias) => alias.name === 'explainer')?.targets).toEqual([
      { version: 'local-explainer@1', weight: 1 },
      { version: 'local-explainer@2', weight: 0 },
    ]);
    expect(await changesWritten()).toBe(written);
  });

  it('When an admin deletes an alias, then callers naming it get NOT_FOUND', async () => {
    await as(admin, () => callUnary(client, 'DeleteAlias', { alias: 'canary' }));

    expect((await aliases()).aliases.map((alias) => alias.name)).toEqual(['explainer', 'explainer@stable']);
    expect((await failure(infer(service, user, textRequest(randomUUID(), 'canary', 'Why?')))).code).toBe(
      'NOT_FOUND',
    );
    expect((await listModels()).map((model) => model.name)).not.toContain('canary');
  });

  it('When a change goes through one replica, then another replica serves it within seconds, without a restart', async () => {
    // Every replica hears ai.registry.changed on its own broadcast queue. Its periodic refresh is a
    // minute away: only the event can explain the other replica serving the change within 15 s.
    const other = await startAiGateway(env, { REGISTRY_REFRESH_MS: '60000' });
    const otherClient = adminClient(other);
    try {
      const ask = () =>
        infer(other, user, textRequest(randomUUID(), 'explainer@stable', 'Why?', 'Disk full')).then(
          (answer) => answer.modelVersion,
        );
      expect(await ask()).toBe('local-explainer@1');

      await setTargets('explainer@stable', [{ version: 'local-explainer@2', weight: 1 }]);

      await waitFor(async () => (await ask()) === 'local-explainer@2', {
        timeoutMs: 15_000,
        intervalMs: 200,
        description: 'the other replica to serve the moved alias',
      });
      // And a change through the second replica is served by it as soon as it is answered.
      await as(admin, () =>
        callUnary(otherClient, 'SetAliasTargets', {
          alias: 'explainer@stable',
          targets: [{ version: 'local-explainer@1', weight: 1 }],
        }),
      );
      expect(
        (await infer(other, user, textRequest(randomUUID(), 'explainer@stable', 'Why?', 'Disk full')))
          .modelVersion,
      ).toBe('local-explainer@1');
    } finally {
      otherClient.close();
      await other.stop();
    }
  }, 60_000);
});

function adminClient(service: RunningAiGateway): AdminClient {
  // The same server the harness's clients talk to ("dns:127.0.0.1:<port>").
  const address = service.inference.getChannel().getTarget();
  return createGrpcClient(loadProtos().te.ai.v1.ModelAdmin, address, {
    logger: service.logs.logger,
    metrics: createMetrics({ service: 'test-admin-client', defaultMetrics: false }),
  });
}
