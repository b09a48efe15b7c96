const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'api-gateway',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
