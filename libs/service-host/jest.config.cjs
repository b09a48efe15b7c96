const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'service-host',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
