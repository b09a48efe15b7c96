import path from 'node:path';
import { addressVariable, stackServices } from '../src/service-catalog.js';
import { loadStackConfig } from '../src/stack-config.js';

describe('stackServices', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const services = stackServices(loadStackConfig({ REDIS_URL: 'redis://cache:6379' }, root));

  it('When listed, then the four backends come first and the gateway last, with the ports of docs/architecture.md', () => {
    expect(services.map((s) => [s.name, s.tier, s.ports])).toEqual([
      ['user-service', 'backend', [50051, 8081]],
      ['context-service', 'backend', [50052, 8082]],
      ['ai-gateway-service', 'backend', [50053, 8083]],
      ['integration-service', 'backend', [50054, 8084]],
      ['api-gateway', 'gateway', [8080, 9080]],
    ]);
    expect(services.map((s) => s.readyUrl)).toEqual([
      'http://127.0.0.1:8081/readyz',
      'http://127.0.0.1:8082/readyz',
      'http://127.0.0.1:8083/readyz',
      'http://127.0.0.1:8084/readyz',
      'http://127.0.0.1:8080/readyz',
    ]);
    expect(services[0].entry).toBe(path.join(root, 'apps/user-service/dist/main.js'));
  });

  it('When a backend has a Prisma schema, then its database URL is the admin URL with its own database', () => {
    const user = services[0];

    expect(user.database?.name).toBe('te_user');
    expect(user.database?.url).toBe('postgresql://postgres@127.0.0.1:5432/te_user');
    expect(user.env).toMatchObject({
      SERVICE_NAME: 'user-service',
      GRPC_PORT: '50051',
      HTTP_PORT: '8081',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/te_user',
      REDIS_URL: 'redis://cache:6379',
      NODE_ENV: 'development',
    });
  });

  it('When the gateway starts, then it knows every backend address', () => {
    expect(services[4].env).toMatchObject({
      HTTP_PORT: '8080',
      OPS_PORT: '9080',
      USER_SERVICE_ADDR: '127.0.0.1:50051',
      CONTEXT_SERVICE_ADDR: '127.0.0.1:50052',
      AI_GATEWAY_SERVICE_ADDR: '127.0.0.1:50053',
      INTEGRATION_SERVICE_ADDR: '127.0.0.1:50054',
    });
    expect(services[4].database).toBeUndefined();
    expect(addressVariable('ai-gateway-service')).toBe('AI_GATEWAY_SERVICE_ADDR');
  });
});
