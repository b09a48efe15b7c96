import { z } from 'zod';
import { commonConfigSchema, ConfigError, drainDelayMs, env, loadConfig } from './config.js';

const schema = commonConfigSchema.extend({
  GRPC_PORT: env.port(50051),
  DATABASE_URL: env.url(),
  CORS_ORIGINS: env.list(),
  FEATURE_X: env.boolean(false),
});

describe('loadConfig', () => {
  it('When the environment is valid, then defaults fill the gaps and values are typed', () => {
    const config = loadConfig(schema, {
      DATABASE_URL: 'postgresql://localhost/te',
      CORS_ORIGINS: 'https://a.io, https://b.io',
      FEATURE_X: 'true',
    });
    expect(config.GRPC_PORT).toBe(50051);
    expect(config.NODE_ENV).toBe('development');
    expect(config.CORS_ORIGINS).toEqual(['https://a.io', 'https://b.io']);
    expect(config.FEATURE_X).toBe(true);
    expect(config.SHUTDOWN_GRACE_MS).toBe(25_000);
  });

  it('When several variables are bad, then the error lists every one of them', () => {
    let thrown: unknown;
    try {
      loadConfig(schema, { GRPC_PORT: '70000', LOG_LEVEL: 'loud', NODE_ENV: 'staging' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const variables = (thrown as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['DATABASE_URL', 'GRPC_PORT', 'LOG_LEVEL', 'NODE_ENV']);
    expect((thrown as ConfigError).message).toContain('4 problems');
  });

  it('When a variable is set to the empty string, then it counts as unset', () => {
    const config = loadConfig(z.object({ PORT: env.port(8080) }), { PORT: '' });
    expect(config.PORT).toBe(8080);
  });

  it('When running in production without an explicit drain delay, then readiness fails 5 s before closing', () => {
    const production = loadConfig(commonConfigSchema, { NODE_ENV: 'production' });
    expect(drainDelayMs(production)).toBe(5_000);
    expect(drainDelayMs(loadConfig(commonConfigSchema, {}))).toBe(0);
    expect(
      drainDelayMs(
        loadConfig(commonConfigSchema, { NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY_MS: '100' }),
      ),
    ).toBe(100);
  });
});
