const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'database',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
