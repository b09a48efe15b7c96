import { ConfigError } from '@te/platform';
import { loadAiGatewayServiceConfig } from './config.js';
import { resilienceSettings } from './resilience/resilience-config.js';

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

  it('When no resilience variable is set, then retries, breakers and queues have their documented defaults', () => {
    expect(resilienceSettings(loadAiGatewayServiceConfig({}))).toEqual({
      retry: { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 4_000, maxRetryAfterMs: 10_000 },
      breaker: {
        failureThreshold: 5,
        failureRatio: 0.5,
        windowMs: 60_000,
        minimumCalls: 20,
        coolDownMs: 30_000,
      },
      queueLimit: 100,
    });
  });

  it('When resilience variables are set, then they are used, and bad ones are each named', () => {
    const settings = resilienceSettings(
      loadAiGatewayServiceConfig({
        AI_RETRY_MAX_ATTEMPTS: '1',
        AI_BREAKER_FAILURE_RATIO: '0.25',
        AI_CONCURRENCY_QUEUE_LIMIT: '0',
      }),
    );
    expect(settings.retry.maxAttempts).toBe(1);
    expect(settings.breaker.failureRatio).toBe(0.25);
    expect(settings.queueLimit).toBe(0);
    let error: ConfigError | undefined;
    try {
      loadAiGatewayServiceConfig({
        AI_RETRY_MAX_ATTEMPTS: '0',
        AI_BREAKER_FAILURE_RATIO: '1.5',
        AI_BREAKER_COOL_DOWN_MS: 'soon',
        AI_CONCURRENCY_QUEUE_LIMIT: '-1',
      });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error!.problems.map((p) => p.variable).sort()).toEqual([
      'AI_BREAKER_COOL_DOWN_MS',
      'AI_BREAKER_FAILURE_RATIO',
      'AI_CONCURRENCY_QUEUE_LIMIT',
      'AI_RETRY_MAX_ATTEMPTS',
    ]);
  });

  it('When cache and budget variables are unset, set or bad, then defaults apply, values are used, and bad ones are named', () => {
    expect(loadAiGatewayServiceConfig({})).toMatchObject({
      AI_CACHE_TTL_SECONDS: 3_600,
      AI_CACHE_MAX_ENTRY_BYTES: 262_144,
      AI_TOKEN_BUDGET_PER_DAY: 1_000_000,
      AI_TOKEN_BUDGET_RESERVATION_TTL_SECONDS: 900,
    });
    expect(
      loadAiGatewayServiceConfig({ AI_CACHE_TTL_SECONDS: '60', AI_TOKEN_BUDGET_PER_DAY: '0' }),
    ).toMatchObject({ AI_CACHE_TTL_SECONDS: 60, AI_TOKEN_BUDGET_PER_DAY: 0 });
    let error: ConfigError | undefined;
    try {
      loadAiGatewayServiceConfig({
        AI_CACHE_TTL_SECONDS: '0',
        AI_CACHE_MAX_ENTRY_BYTES: 'big',
        AI_TOKEN_BUDGET_PER_DAY: '-1',
        AI_TOKEN_BUDGET_RESERVATION_TTL_SECONDS: '1.5',
      });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error!.problems.map((p) => p.variable).sort()).toEqual([
      'AI_CACHE_MAX_ENTRY_BYTES',
      'AI_CACHE_TTL_SECONDS',
      'AI_TOKEN_BUDGET_PER_DAY',
      'AI_TOKEN_BUDGET_RESERVATION_TTL_SECONDS',
    ]);
  });
});
