const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'api-gateway',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  // Component tests start a real user-service (migrated database, argon2 hashing) per file; on a
  // loaded 2-core machine a single request can take a few seconds. Set-up hooks and the outage test
  // set longer limits of their own.
  testTimeout: 30_000,
};
