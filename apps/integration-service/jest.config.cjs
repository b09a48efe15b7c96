const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'integration-service',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  // @octokit/webhooks-methods (GitHub's signing, a test dependency) is ESM-only and exports only an
  // `import` condition, which Jest's CommonJS resolver does not match: point at its Node build and let
  // swc compile it like the preset's other ESM-only packages.
  moduleNameMapper: {
    ...preset.moduleNameMapper,
    '^@octokit/webhooks-methods$':
      '<rootDir>/../../node_modules/@octokit/webhooks-methods/dist-node/index.js',
  },
  transformIgnorePatterns: [
    preset.transformIgnorePatterns[0].replace('(?!(', '(?!(@octokit/webhooks-methods|'),
  ],
};
