const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'context-service',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
