const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'events',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  // Component tests talk to the real RabbitMQ and PostgreSQL; the fault test restarts a broker.
  testTimeout: 30_000,
};
