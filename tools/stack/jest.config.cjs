const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'stack',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  // The database step runs @te/prisma-migrate, whose schema engine package is bundler-style ESM.
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|openid-client|oauth4webapi|oidc-provider|@prisma/schema-engine-wasm)/)',
  ],
};
