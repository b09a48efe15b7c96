const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'prisma-migrate',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  // Component tests talk to PostgreSQL and replay migrations in shadow databases.
  testTimeout: 60_000,
};
