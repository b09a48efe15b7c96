const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'user-service',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
