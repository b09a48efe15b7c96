const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'ai-gateway-service',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
