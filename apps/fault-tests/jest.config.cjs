const preset = require('../../jest.preset.cjs');

// Fault injection: each test file starts real services from their builds (`nx run fault-tests:test`
// builds them first), and some start their own RabbitMQ node, then kill things with SIGKILL. One
// worker: the files' processes and brokers would otherwise compete for this machine's two cores, and
// two files must never race for the same broker port.
module.exports = {
  ...preset,
  displayName: 'fault-tests',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  maxWorkers: 1,
  // A scenario waits for a broker restart, reconnection back-off (up to ~30 s) and retry delays (up to
  // 30 s); beforeAll (databases, broker, services) has its own, longer timeout.
  testTimeout: 180_000,
  slowTestThreshold: 60,
};
