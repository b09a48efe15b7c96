import { ConfigError } from '@te/platform';
import { loadIntegrationServiceConfig } from '../config.js';
import { loadInboundSources } from './inbound-source.config.js';

const SW_SECRET = `whsec_${Buffer.from('0123456789abcdef01234567').toString('base64')}`;

const problemsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
  }
  throw new Error('expected a ConfigError');
};

describe('inbound sources from the environment', () => {
  it('When sources are listed, then each has its kind, secrets (comma-separated) and tolerance', () => {
    const sources = loadInboundSources({
      INBOUND_SOURCES: 'github-main,stripe,acme',
      INBOUND_SOURCE_GITHUB_MAIN_KIND: 'github',
      INBOUND_SOURCE_GITHUB_MAIN_SECRET: 'old-secret, new-secret',
      INBOUND_SOURCE_STRIPE_SECRET: 'whsec_abc',
      INBOUND_SOURCE_ACME_KIND: 'standard-webhooks',
      INBOUND_SOURCE_ACME_SECRET: SW_SECRET,
      INBOUND_SOURCE_ACME_TOLERANCE_SECONDS: '600',
    });

    expect(sources).toEqual([
      { id: 'github-main', kind: 'github', secrets: ['old-secret', 'new-secret'], toleranceSeconds: 86_400 },
      { id: 'stripe', kind: 'stripe', secrets: ['whsec_abc'], toleranceSeconds: 300 },
      { id: 'acme', kind: 'standard-webhooks', secrets: [SW_SECRET], toleranceSeconds: 600 },
    ]);
  });

  it('When nothing is listed, then there are no sources (every delivery is NOT_FOUND)', () => {
    expect(loadIntegrationServiceConfig({}).inboundSources).toEqual([]);
  });

  it('When variables are wrong, then start-up lists every problem, never quoting a secret', () => {
    const error = problemsOf(() =>
      loadIntegrationServiceConfig({
        INBOUND_SOURCES: 'Bad_Id,acme,ghost,acme',
        INBOUND_SOURCE_ACME_KIND: 'standard-webhooks',
        INBOUND_SOURCE_ACME_SECRET: 'not base64 at all!,secret-value-42',
        INBOUND_SOURCE_GHOST_KIND: 'gitlab',
        INBOUND_MAX_BODY_BYTES: String(64 * 1024 * 1024),
      }),
    );

    expect(error.problems).toEqual(
      expect.arrayContaining([
        { variable: 'INBOUND_SOURCES', message: expect.stringContaining('"Bad_Id" is not a source id') },
        { variable: 'INBOUND_SOURCES', message: '"acme" is listed twice' },
        { variable: 'INBOUND_SOURCE_GHOST_KIND', message: expect.any(String) },
        { variable: 'INBOUND_SOURCE_GHOST_SECRET', message: expect.stringContaining('is required') },
        { variable: 'INBOUND_MAX_BODY_BYTES', message: expect.any(String) },
      ]),
    );
    expect(error.message).not.toContain('secret-value-42');
  });

  it('When a Standard Webhooks secret is not base64, then it is named by position only', () => {
    const error = problemsOf(() =>
      loadInboundSources({
        INBOUND_SOURCES: 'acme',
        INBOUND_SOURCE_ACME_KIND: 'standard-webhooks',
        INBOUND_SOURCE_ACME_SECRET: `${SW_SECRET},not base64 secret-value-42!`,
      }),
    );

    expect(error.problems).toEqual([
      { variable: 'INBOUND_SOURCE_ACME_SECRET', message: expect.stringContaining('secret #2 is not') },
    ]);
    expect(error.message).not.toContain('secret-value-42');
  });
});
