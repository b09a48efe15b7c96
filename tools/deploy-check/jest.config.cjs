const preset = require('../../jest.preset.cjs');

// kubernetes-models and its @kubernetes-models/* runtime are ESM only: jest.resolver.cjs resolves them
// with the "import" condition and swc compiles them to CommonJS like the preset's other ESM packages. helm and kubectl are extracted once
// per run (globalSetup); renders run as child processes, so the default workers suffice.
module.exports = {
  ...preset,
  displayName: 'deploy-check',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  resolver: '<rootDir>/jest.resolver.cjs',
  transformIgnorePatterns: [
    '/node_modules/(?!(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex|ip-regex|ajv-formats-draft2019)/)',
  ],
  testTimeout: 60_000,
};
