import { ConfigError } from '@te/platform';
import { loadContextServiceConfig } from './config.js';

describe('context-service config', () => {
  it('When nothing is set, then it runs with its documented local defaults', () => {
    const config = loadContextServiceConfig({});
    expect(config).toMatchObject({
      SERVICE_NAME: 'context-service',
      GRPC_PORT: 50052,
      HTTP_PORT: 8082,
      AMQP_EXCHANGE: 'te.events',
    });
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/te_context');
  });

  it('When variables are invalid, then start-up fails naming each of them', () => {
    expect(() => loadContextServiceConfig({ GRPC_PORT: 'x', DATABASE_URL: 'nope', REDIS_URL: '' })).toThrow(
      ConfigError,
    );
    try {
      loadContextServiceConfig({ GRPC_PORT: 'x', DATABASE_URL: 'nope' });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'DATABASE_URL',
        'GRPC_PORT',
      ]);
    }
  });
});

describe('context-service routing config', () => {
  const problemsOf = (environment: NodeJS.ProcessEnv) => {
    try {
      loadContextServiceConfig(environment);
    } catch (error) {
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('When ROUTING_RULES is not JSON, then start-up fails naming it', () => {
    expect(problemsOf({ ROUTING_RULES: '[{oops' })).toEqual([
      { variable: 'ROUTING_RULES', message: 'must be a JSON array of routing rules (invalid JSON)' },
    ]);
  });

  it('When a routing rule has bad fields, then each is named under ROUTING_RULES', () => {
    const rules = JSON.stringify([
      { name: 'v', when: { mode: 'fax' }, model: '' },
      { name: 'all', model: 'x' },
    ]);
    expect([...new Set(problemsOf({ ROUTING_RULES: rules }).map((p) => p.variable))].sort()).toEqual([
      'ROUTING_RULES.0.model',
      'ROUTING_RULES.0.when.mode',
    ]);
  });

  it('When ROUTING_RULES is valid, then the rules replace the defaults', () => {
    const config = loadContextServiceConfig({ ROUTING_RULES: '[{"name":"all","model":"tiny"}]' });
    expect(config.ROUTING_RULES).toEqual([
      { name: 'all', when: {}, model: 'tiny', images: 'ocr_text', requires_vision: false },
    ]);
    expect(loadContextServiceConfig({}).ROUTING_RULES).toBeUndefined();
  });
});
