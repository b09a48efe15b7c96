const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'stack',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
