const preset = require('../../jest.preset.cjs');

// End-to-end tests of the system: each test file spawns the services as real processes from their
// builds (`nx run system-e2e:test` builds them first). One worker: the processes of a file would
// otherwise compete with another file's for this machine's two cores.
module.exports = {
  ...preset,
  displayName: 'system-e2e',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  maxWorkers: 1,
  // A test waits for events crossing three processes and RabbitMQ; starting the stack has its own
  // (longer) timeout in beforeAll.
  testTimeout: 60_000,
  slowTestThreshold: 30,
};
