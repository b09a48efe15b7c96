import { classifyRequest } from './rate-limit.policy.js';

describe('classifyRequest', () => {
  test.each([
    ['POST', '/api/v1/auth/login', 'auth'],
    ['POST', '/api/v1/auth/register/', 'auth'],
    ['POST', '/API/V1/Auth/Refresh', 'auth'],
    ['GET', '/api/v1/auth/oidc/google/start', 'auth'],
    ['POST', '/api/v1/users/me/password', 'auth'],
    ['POST', '/api/v1/auth/logout', 'default'],
    ['POST', '/api/v1/sessions/abc/attachments', 'upload'],
    ['GET', '/api/v1/sessions/abc/attachments/def', 'default'],
    ['POST', '/api/v1/sessions/abc/messages', 'inference'],
    ['GET', '/api/v1/sessions/abc/messages', 'default'],
    ['POST', '/v1/chat/completions', 'inference'],
    ['GET', '/v1/models', 'default'],
    ['GET', '/api/v1/users/me', 'default'],
  ])('When %s %s arrives, then its class is %s', (method, path, expected) => {
    expect(classifyRequest(method, path)).toBe(expected);
  });

  test('When probes, the JWKS or a CORS preflight arrive, then they are not limited', () => {
    expect(classifyRequest('GET', '/healthz')).toBeUndefined();
    expect(classifyRequest('GET', '/.well-known/jwks.json')).toBeUndefined();
    expect(classifyRequest('OPTIONS', '/api/v1/auth/login')).toBeUndefined();
    expect(classifyRequest('GET', '/v10/models')).toBeUndefined();
  });
});
