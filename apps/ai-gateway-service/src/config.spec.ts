import { ConfigError } from '@te/platform';
import { loadAiGatewayServiceConfig } from './config.js';

describe('ai-gateway-service config', () => {
  it('When nothing is set, then it runs with its documented local defaults', () => {
    const config = loadAiGatewayServiceConfig({});
    expect(config).toMatchObject({
      SERVICE_NAME: 'ai-gateway-service',
      GRPC_PORT: 50053,
      HTTP_PORT: 8083,
      AMQP_EXCHANGE: 'te.events',
    });
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/te_ai_gateway');
  });

  it('When variables are invalid, then start-up fails naming each of them', () => {
    expect(() => loadAiGatewayServiceConfig({ GRPC_PORT: 'x', DATABASE_URL: 'nope', REDIS_URL: '' })).toThrow(
      ConfigError,
    );
    try {
      loadAiGatewayServiceConfig({ GRPC_PORT: 'x', DATABASE_URL: 'nope' });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'DATABASE_URL',
        'GRPC_PORT',
      ]);
    }
  });

  it('When no provider is configured, then the built-in local provider is the one', () => {
    expect(loadAiGatewayServiceConfig({}).providers).toEqual([
      { id: 'local', kind: 'local', maxConcurrency: 16 },
    ]);
    expect(loadAiGatewayServiceConfig({}).REGISTRY_REFRESH_MS).toBe(5_000);
  });

  it('When service and provider variables are both bad, then one error lists each of them once', () => {
    let error: ConfigError | undefined;
    try {
      loadAiGatewayServiceConfig({
        GRPC_PORT: 'x',
        AI_PROVIDERS: 'local,vllm',
        AI_PROVIDER_VLLM_KIND: 'openai',
        AI_PROVIDER_VLLM_BASE_URL: 'ftp://nope',
        REGISTRY_REFRESH_MS: '-1',
      });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.variable).sort()).toEqual([
      'AI_PROVIDER_VLLM_BASE_URL',
      'GRPC_PORT',
      'REGISTRY_REFRESH_MS',
    ]);
  });
});
