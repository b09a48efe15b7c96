import { DEFAULTS, loadStackConfig, StackConfigError } from './stack-config.js';

describe('loadStackConfig', () => {
  it('When nothing is set, then the machine defaults apply', () => {
    const config = loadStackConfig({}, '/repo');

    expect(config).toEqual({
      rootDir: '/repo',
      databaseAdminUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
      redisUrl: 'redis://127.0.0.1:6379',
      amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
      nodeEnv: 'development',
      infraTimeoutMs: DEFAULTS.infraTimeoutMs,
      readyTimeoutMs: 60_000,
      stopTimeoutMs: 30_000,
      prettyLogs: null,
    });
  });

  it('When variables are set, then they win', () => {
    const config = loadStackConfig(
      {
        DATABASE_ADMIN_URL: 'postgres://admin:pw@db:5433/postgres',
        REDIS_URL: 'rediss://cache:6380',
        AMQP_URL: 'amqps://u:p@mq:5671/vh',
        NODE_ENV: 'production',
        STACK_READY_TIMEOUT_MS: '1000',
        STACK_PRETTY_LOGS: '0',
      },
      '/repo',
    );

    expect(config).toMatchObject({
      databaseAdminUrl: 'postgres://admin:pw@db:5433/postgres',
      redisUrl: 'rediss://cache:6380',
      amqpUrl: 'amqps://u:p@mq:5671/vh',
      nodeEnv: 'production',
      readyTimeoutMs: 1000,
      prettyLogs: false,
    });
  });

  it('When values are wrong, then one error lists every problem', () => {
    const load = () =>
      loadStackConfig(
        { DATABASE_ADMIN_URL: 'mysql://x', REDIS_URL: 'not a url', STACK_STOP_TIMEOUT_MS: '-5' },
        '/repo',
      );

    expect(load).toThrow(StackConfigError);
    expect(load).toThrow(
      'Invalid environment:\n' +
        '  - DATABASE_ADMIN_URL must use postgresql: or postgres://\n' +
        '  - REDIS_URL is not a valid URL\n' +
        '  - STACK_STOP_TIMEOUT_MS must be a positive integer (milliseconds), got "-5"',
    );
  });
});
