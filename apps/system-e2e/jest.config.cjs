const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'system-e2e',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
