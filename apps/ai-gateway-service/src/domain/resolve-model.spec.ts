import { AppError } from '@te/platform';
import type { ModelVersion, RegistrySnapshot } from './registry.js';
import { fallbackChain, ModelResolver, pickWeighted } from './resolve-model.js';

const NOW = new Date('2026-06-01T12:00:00Z');

function version(name: string, overrides: Partial<ModelVersion> = {}): ModelVersion {
  const [model, label] = name.split('@');
  return {
    id: `id-${name}`,
    name,
    model,
    version: label,
    providerId: 'local',
    providerModel: 'extractive-v1',
    parameters: {},
    capabilities: { vision: false, streaming: true, contextWindow: 8_000, maxOutputTokens: 1_000 },
    inputPricePerMillion: '0',
    outputPricePerMillion: '0',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  };
}

const stable = version('gpt@1', {
  capabilities: { vision: true, streaming: true, contextWindow: 128_000, maxOutputTokens: 4_000 },
});
const canary = version('gpt@2', {
  capabilities: { vision: false, streaming: true, contextWindow: 64_000, maxOutputTokens: 8_000 },
});
const retired = version('old@1', { retiresAt: new Date('2026-05-31T00:00:00Z') });
const retiringLater = version('old@2', {
  deprecatedAt: new Date('2026-05-01T00:00:00Z'),
  retiresAt: new Date('2026-07-01T00:00:00Z'),
});
const elsewhere = version('remote@1', { providerId: 'not-configured' });
const spare = version('spare@1');

const snapshot: RegistrySnapshot = {
  versions: [stable, canary, retired, retiringLater, elsewhere, spare],
  aliases: [
    {
      name: 'explainer',
      targets: [
        { versionId: stable.id, weight: 90 },
        { versionId: canary.id, weight: 10 },
      ],
    },
    { name: 'legacy', targets: [{ versionId: retired.id, weight: 100 }] },
    {
      name: 'resilient',
      targets: [
        { versionId: spare.id, weight: 0 },
        { versionId: canary.id, weight: 10 },
        { versionId: retired.id, weight: 60 },
        { versionId: elsewhere.id, weight: 50 },
        { versionId: stable.id, weight: 90 },
      ],
    },
    {
      name: 'mixed',
      targets: [
        { versionId: retired.id, weight: 50 },
        { versionId: retiringLater.id, weight: 50 },
      ],
    },
  ],
};
const resolver = new ModelResolver(snapshot);
const options = (random: () => number = () => 0) => ({
  now: NOW,
  random,
  callable: (candidate: ModelVersion) => candidate.providerId === 'local',
});

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a failure');
}

describe('model resolution', () => {
  it('When an alias is drawn many times, then each target is chosen in proportion to its weight', () => {
    // A seeded generator (mulberry32) so the test is repeatable yet covers the whole range.
    let seed = 42;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const counts = new Map<string, number>();
    const draws = 20_000;
    for (let index = 0; index < draws; index++) {
      const { version: drawn } = resolver.resolve('explainer', options(random));
      counts.set(drawn.name, (counts.get(drawn.name) ?? 0) + 1);
    }
    expect((counts.get('gpt@2') ?? 0) / draws).toBeGreaterThan(0.09);
    expect((counts.get('gpt@2') ?? 0) / draws).toBeLessThan(0.11);
    expect((counts.get('gpt@1') ?? 0) + (counts.get('gpt@2') ?? 0)).toBe(draws);
  });

  it('When the random value crosses a weight boundary, then the draw moves to the next target', () => {
    expect(
      resolver.resolve(
        'explainer',
        options(() => 0),
      ).version.name,
    ).toBe('gpt@1');
    expect(
      resolver.resolve(
        'explainer',
        options(() => 0.8999),
      ).version.name,
    ).toBe('gpt@1');
    expect(
      resolver.resolve(
        'explainer',
        options(() => 0.9),
      ).version.name,
    ).toBe('gpt@2');
    expect(
      resolver.resolve(
        'explainer',
        options(() => 0.999999),
      ).version.name,
    ).toBe('gpt@2');
  });

  it('When a target has weight 0, then it is never drawn', () => {
    const targets = [
      { version: 'a', weight: 0 },
      { version: 'b', weight: 3 },
    ];
    for (const value of [0, 0.3, 0.99]) expect(pickWeighted(targets, () => value)).toBe('b');
    expect(pickWeighted([{ version: 'a', weight: 0 }], () => 0.5)).toBeUndefined();
  });

  it('When an alias is resolved, then its chain is the draw, then the other usable targets by weight, weight 0 last', () => {
    const names = (random: number) =>
      resolver
        .resolve(
          'resilient',
          options(() => random),
        )
        .chain.map((entry) => entry.name);
    // Usable: spare (0), canary (10), stable (90); retired and uncallable targets are left out.
    expect(names(0)).toEqual(['gpt@2', 'gpt@1', 'spare@1']);
    expect(names(0.5)).toEqual(['gpt@1', 'gpt@2', 'spare@1']);
    expect(resolver.resolve('resilient', options()).version).toBe(canary);
    // The weight-0 target is never drawn, yet every chain member counts for the capabilities.
    for (const value of [0, 0.1, 0.5, 0.99])
      expect(
        resolver.resolve(
          'resilient',
          options(() => value),
        ).version,
      ).not.toBe(spare);
  });

  it('When targets have equal weights, then the fallback order keeps the alias’s order', () => {
    const targets = [
      { version: 'a', weight: 5 },
      { version: 'b', weight: 0 },
      { version: 'c', weight: 5 },
      { version: 'd', weight: 7 },
    ];
    expect(fallbackChain('c', targets)).toEqual(['c', 'd', 'a', 'b']);
  });

  it('When a version is named, then its chain is itself alone', () => {
    expect(resolver.resolve('gpt@2', options()).chain).toEqual([canary]);
  });

  it('When an alias is resolved, then it promises what all its targets can do', () => {
    expect(resolver.resolve('explainer', options()).capabilities).toEqual({
      vision: false,
      streaming: true,
      contextWindow: 64_000,
      maxOutputTokens: 4_000,
    });
  });

  it('When a version is named explicitly, then it answers regardless of aliases', () => {
    expect(resolver.resolve('gpt@2', options()).version).toBe(canary);
    expect(resolver.resolve('gpt@2', options()).kind).toBe('version');
  });

  it('When a version has retired, then it is NOT_FOUND by name, and aliases skip it', () => {
    expect(errorOf(() => resolver.resolve('old@1', options())).code).toBe('NOT_FOUND');
    expect(errorOf(() => resolver.resolve('legacy', options())).code).toBe('NOT_FOUND');
    for (const value of [0, 0.49, 0.99])
      expect(
        resolver.resolve(
          'mixed',
          options(() => value),
        ).version.name,
      ).toBe('old@2');
  });

  it('When a name is unknown or its provider is not configured here, then it is NOT_FOUND naming it', () => {
    const unknown = errorOf(() => resolver.resolve('nope', options()));
    expect(unknown).toMatchObject({ code: 'NOT_FOUND', details: { model: 'nope' } });
    expect(errorOf(() => resolver.resolve('remote@1', options())).code).toBe('NOT_FOUND');
  });

  it('When the catalogue is listed, then retired and uncallable names are left out and dates are shown', () => {
    const entries = resolver.catalog({ now: NOW, callable: options().callable });
    expect(entries.map((entry) => `${entry.kind}:${entry.name}`)).toEqual([
      'alias:explainer',
      'version:gpt@1',
      'version:gpt@2',
      'alias:mixed',
      'version:old@2',
      'alias:resilient',
      'version:spare@1',
    ]);
    expect(entries.find((entry) => entry.name === 'old@2')).toMatchObject({
      deprecatedAt: retiringLater.deprecatedAt,
      retiresAt: retiringLater.retiresAt,
    });
  });
});
