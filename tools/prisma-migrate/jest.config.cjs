const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'prisma-migrate',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
