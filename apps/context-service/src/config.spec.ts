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
