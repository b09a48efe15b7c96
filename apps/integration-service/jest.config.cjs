const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'integration-service',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
