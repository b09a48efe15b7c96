// Shared Jest settings for every project. Each project's jest.config.cjs spreads this.
// @swc/jest compiles TypeScript (type-checking is the `typecheck` target's job), and the
// "@te/source" export condition makes workspace libraries resolve to their TypeScript sources,
// so tests never need a prior build.
const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: {
    customExportConditions: ['@te/source', 'node', 'require', 'default'],
  },
  transform: {
    '^.+\\.(t|j|mj|cj)s$': ['@swc/jest', swcOptions],
  },
  // ESM-only packages, and CommonJS ones that load modules with import(), are compiled to CommonJS
  // by swc instead of being skipped (Jest runs without --experimental-vm-modules).
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|openid-client|oauth4webapi|oidc-provider|uuid|@prisma/schema-engine-wasm|@opentelemetry/otlp-exporter-base)/)',
  ],
  // Sources import siblings as './x.js' (NodeNext); Jest resolves the .ts file.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  clearMocks: true,
  // On CI a handle left open after the last test (a wedged broker's socket, say) must not keep the
  // run alive until CI's own time limit; locally Jest still reports such handles instead of exiting.
  forceExit: process.env.CI === 'true',
};
