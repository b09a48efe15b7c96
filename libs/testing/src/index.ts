// @te/testing: helpers for component and end-to-end tests, each run isolated by its own names.
// See ../README.md.
export { freePort } from './free-port.js';
export { runId } from './run-id.js';
export { testAmqp, type TestAmqp } from './test-amqp.js';
export {
  createTestDatabase,
  dropTestDatabase,
  testDatabaseAdminUrl,
  type TestDatabase,
} from './test-database.js';
export { testRedisPrefix, type TestRedisPrefix } from './test-redis.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export { createServiceTestEnv, type ServiceTestEnv, type ServiceTestEnvOptions } from './service-test-env.js';
export { spawnService, type SpawnedService, type SpawnServiceOptions } from './spawn-service.js';
export {
  echo,
  startFakeAiGateway,
  streamScript,
  textOf,
  type FakeAiGateway,
  type FakeModel,
  type InferBehaviour,
  type InferStreamBehaviour,
  type RecordedInfer,
  type RecordedStream,
  type StreamScript,
} from './fake-ai-gateway.js';
export { ServiceProcess, type ServiceProcessOptions } from './service-process.js';
export { openTestPool } from './test-pool.js';
