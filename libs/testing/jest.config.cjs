const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'testing',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  testTimeout: 30_000,
};
