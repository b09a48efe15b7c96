import { createServiceTestEnv, type ServiceTestEnv } from '@te/testing';
import type { AppError } from '@te/platform';
import { seedRegistry, SEED_ALIASES } from '../src/db/registry-seed.js';
import { RegistryRepository } from '../src/db/registry.repository.js';
import type { NewModelVersion } from '../src/domain/registry.js';
import { failure, openDb, SCHEMA } from './support/ai-gateway.harness.js';

const version = (overrides: Partial<NewModelVersion> = {}): NewModelVersion => ({
  model: 'gpt',
  version: '1',
  providerId: 'openai',
  providerModel: 'gpt-4o-mini',
  capabilities: { vision: true, streaming: true, contextWindow: 128_000, maxOutputTokens: 16_384 },
  inputPricePerMillion: '0.15',
  outputPricePerMillion: '0.6',
  ...overrides,
});

describe('model registry repository and seed', () => {
  let env: ServiceTestEnv;
  let database: ReturnType<typeof openDb>;
  let registry: RegistryRepository;
  let commits = 0;

  beforeAll(async () => {
    env = await createServiceTestEnv({ schemaPath: SCHEMA, databaseName: 'te_ai_gateway' });
    database = openDb(env);
    registry = new RegistryRepository(database.db, () => (commits += 1));
  });

  afterAll(async () => {
    await database?.db.$disconnect();
    await database?.pool.end();
    await env?.cleanup();
  });

  const changedEvents = async () =>
    (
      await database.pool.query<{ envelope: { data: Record<string, string> } }>(
        `SELECT envelope FROM outbox_events WHERE type = 'ai.registry.changed' ORDER BY created_at`,
      )
    ).rows.map((row) => row.envelope.data);

  it('When replicas seed a fresh database at the same time, then the seed exists once and a later run creates nothing', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => seedRegistry(database.db, 'ai-gateway-service')));
    expect(runs.flat().sort()).toEqual(['explainer', 'explainer@stable', 'local-explainer@1']);
    expect(await seedRegistry(database.db, 'ai-gateway-service')).toEqual([]);
    const snapshot = await registry.snapshot();
    expect(snapshot.versions.map((entry) => entry.name)).toEqual(['local-explainer@1']);
    expect(snapshot.aliases).toEqual(
      SEED_ALIASES.map((name) => ({ name, targets: [{ versionId: snapshot.versions[0].id, weight: 100 }] })),
    );
  });

  it('When a version is created, then it reads back exactly, with its change event in the outbox', async () => {
    const before = commits;
    const created = await registry.createVersion(
      version({
        inputPricePerMillion: '0.000001',
        outputPricePerMillion: '12345678.999999',
        parameters: { top_p: 0.9 },
      }),
    );
    expect(created).toMatchObject({
      name: 'gpt@1',
      providerId: 'openai',
      providerModel: 'gpt-4o-mini',
      parameters: { top_p: 0.9 },
      inputPricePerMillion: '0.000001',
      outputPricePerMillion: '12345678.999999',
    });
    expect(await registry.findVersion('gpt@1')).toEqual(created);
    expect(commits).toBe(before + 1);
    expect((await changedEvents()).at(-1)).toEqual({ version: 'gpt@1' });
  });

  it('When a version name is taken, by a version or an alias, then CONFLICT and nothing is written', async () => {
    const events = (await changedEvents()).length;
    expect((await failure(registry.createVersion(version()))).code).toBe('CONFLICT');
    await registry.setAliasTargets('gpt@latest', [{ version: 'gpt@1', weight: 1 }]);
    expect((await failure(registry.createVersion(version({ version: 'latest' })))).code).toBe('CONFLICT');
    expect((await failure(registry.setAliasTargets('gpt@1', [{ version: 'gpt@1', weight: 1 }]))).code).toBe(
      'CONFLICT',
    );
    expect(await changedEvents()).toHaveLength(events + 1); // only the alias
  });

  it('When a version is invalid, then VALIDATION_FAILED names each field', async () => {
    const error = await failure(
      registry.createVersion(
        version({
          model: 'GPT 4',
          version: '',
          providerId: '9x',
          capabilities: { vision: false, streaming: true, contextWindow: 0, maxOutputTokens: 1.5 },
          inputPricePerMillion: '-1',
          outputPricePerMillion: '0.0000001',
        }),
      ),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((field) => field.field)).toEqual([
      'model',
      'version',
      'provider_id',
      'context_window',
      'max_output_tokens',
      'input_price_per_million',
      'output_price_per_million',
    ]);
  });

  it('When alias targets are set again, then they replace the old ones', async () => {
    await registry.createVersion(version({ version: '2' }));
    await registry.setAliasTargets('chat', [{ version: 'gpt@1', weight: 100 }]);
    const alias = await registry.setAliasTargets('chat', [
      { version: 'gpt@1', weight: 90 },
      { version: 'gpt@2', weight: 10 },
    ]);
    const snapshot = await registry.snapshot();
    const ids = Object.fromEntries(snapshot.versions.map((entry) => [entry.name, entry.id]));
    expect(snapshot.aliases.find((entry) => entry.name === 'chat')).toEqual(alias);
    expect(alias.targets).toEqual([
      { versionId: ids['gpt@1'], weight: 90 },
      { versionId: ids['gpt@2'], weight: 10 },
    ]);
    expect((await changedEvents()).at(-1)).toEqual({ alias: 'chat' });
  });

  it('When alias targets are invalid, then VALIDATION_FAILED names them and the alias is unchanged', async () => {
    const bad: AppError = await failure(
      registry.setAliasTargets('chat', [
        { version: 'gpt@9', weight: 50 },
        { version: 'gpt@1', weight: 0 },
      ]),
    );
    expect(bad.fields).toEqual([{ field: 'targets[0].version', message: 'no model version "gpt@9"' }]);
    const weights = await failure(
      registry.setAliasTargets('Chat!', [
        { version: 'gpt@1', weight: -1 },
        { version: 'gpt@1', weight: 0 },
      ]),
    );
    expect(weights.fields?.map((field) => field.field)).toEqual([
      'alias',
      'targets[0].weight',
      'targets',
      'targets',
    ]);
    expect((await registry.findAlias('chat'))?.targets).toHaveLength(2);
  });

  it('When an operator has moved a seeded alias, then the seed does not move it back', async () => {
    await registry.setAliasTargets('explainer', [{ version: 'gpt@2', weight: 100 }]);
    expect(await seedRegistry(database.db, 'ai-gateway-service')).toEqual([]);
    const moved = await registry.findAlias('explainer');
    expect(moved?.targets).toEqual([{ versionId: (await registry.findVersion('gpt@2'))!.id, weight: 100 }]);
  });

  it('When a version is deprecated, retired and cleared, then only its dates change, each with its change event', async () => {
    const before = commits;
    const original = (await registry.findVersion('gpt@1'))!;
    const deprecatedAt = new Date('2030-01-01T00:00:00.000Z');
    const retiresAt = new Date('2030-06-30T12:00:00.000Z');

    const planned = await registry.updateVersionLifecycle('gpt@1', { deprecatedAt, retiresAt });
    expect(planned).toEqual({ ...original, deprecatedAt, retiresAt });
    expect((await changedEvents()).at(-1)).toEqual({ version: 'gpt@1' });

    const kept = await registry.updateVersionLifecycle('gpt@1', { deprecatedAt: null });
    expect([kept.deprecatedAt, kept.retiresAt]).toEqual([undefined, retiresAt]);
    expect(await registry.findVersion('gpt@1')).toEqual(kept);
    expect(commits).toBe(before + 2);
  });

  it('When a lifecycle change is for no version or puts deprecation after retirement, then it is refused and nothing is written', async () => {
    const events = (await changedEvents()).length;
    expect((await failure(registry.updateVersionLifecycle('gpt@9', { retiresAt: null }))).code).toBe(
      'NOT_FOUND',
    );
    expect((await failure(registry.updateVersionLifecycle('chat', { retiresAt: null }))).code).toBe(
      'NOT_FOUND',
    );
    // gpt@1 retires on 2030-06-30 (the test above): a later deprecation is refused.
    const late = await failure(
      registry.updateVersionLifecycle('gpt@1', { deprecatedAt: new Date('2031-01-01T00:00:00Z') }),
    );
    expect([late.code, late.fields]).toEqual([
      'VALIDATION_FAILED',
      [{ field: 'deprecated_at', message: 'must not be after retires_at' }],
    ]);
    const created = await failure(
      registry.createVersion(
        version({
          version: 'backwards',
          deprecatedAt: new Date('2031-01-01T00:00:00Z'),
          retiresAt: new Date('2030-01-01T00:00:00Z'),
        }),
      ),
    );
    expect(created.fields).toEqual([{ field: 'deprecated_at', message: 'must not be after retires_at' }]);
    expect(await registry.findVersion('gpt@backwards')).toBeUndefined();
    expect((await registry.findVersion('gpt@1'))?.deprecatedAt).toBeUndefined();
    expect(await changedEvents()).toHaveLength(events);
  });

  it('When aliases are listed, then each names its targets largest weight first, with its times', async () => {
    const aliases = await registry.listAliases();
    expect(aliases.map((alias) => alias.name)).toEqual([
      'chat',
      'explainer',
      'explainer@stable',
      'gpt@latest',
    ]);
    const chat = aliases.find((alias) => alias.name === 'chat')!;
    expect(chat.targets).toEqual([
      { version: 'gpt@1', weight: 90 },
      { version: 'gpt@2', weight: 10 },
    ]);
    expect(chat.updatedAt.getTime()).toBeGreaterThanOrEqual(chat.createdAt.getTime());
    expect(await registry.listAliases('chat')).toEqual([chat]);
    expect(await registry.listAliases('nothing')).toEqual([]);
  });

  it('When an alias is deleted, then it and its targets are gone with a change event; an unknown one is NOT_FOUND', async () => {
    await registry.deleteAlias('gpt@latest');
    expect(await registry.findAlias('gpt@latest')).toBeUndefined();
    const targets = await database.pool.query(
      `SELECT 1 FROM model_alias_targets WHERE alias_name = 'gpt@latest'`,
    );
    expect(targets.rowCount).toBe(0);
    expect((await changedEvents()).at(-1)).toEqual({ alias: 'gpt@latest' });
    // The versions it pointed at stay.
    expect(await registry.findVersion('gpt@1')).toBeDefined();

    const events = (await changedEvents()).length;
    expect((await failure(registry.deleteAlias('gpt@latest'))).code).toBe('NOT_FOUND');
    expect(await changedEvents()).toHaveLength(events);
  });
});
