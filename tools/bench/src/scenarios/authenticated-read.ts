import { randomUUID } from 'node:crypto';
import type { Principal } from '@te/platform';
import { asPrincipal, callUnary, userServiceClient } from '../grpc-clients.js';
import { closedLoop } from '../load.js';
import { loadRows, type Scenario } from '../scenario.js';

/**
 * 2. An authenticated read: `GET /api/v1/users/me` with a real access token through the gateway
 * (JWT verification, revocation check and rate limits in Redis, gRPC, user-service, PostgreSQL),
 * against the same `GetMe` gRPC call made directly with the token's principal in the metadata.
 * Both sides run in the same closed loop (fetch with keep-alive vs a grpc-js channel).
 */
export const authenticatedRead: Scenario = {
  id: 2,
  title: 'Authenticated read: gateway → gRPC → user-service → PostgreSQL vs direct gRPC',
  async run({ stack, load, log }) {
    await stack.ensure(['api-gateway']);
    const { accessToken, principal } = await signUp(stack.gatewayUrl('/api/v1/auth/register'));
    const users = userServiceClient(`127.0.0.1:${stack.service('user-service').port}`);
    try {
      log('2: direct gRPC UserService/GetMe');
      const baseline = await closedLoop(
        () => asPrincipal(principal, () => callUnary(users, 'GetMe', {})),
        load,
      );
      log('2: gateway GET /api/v1/users/me');
      const url = stack.gatewayUrl('/api/v1/users/me');
      const headers = { authorization: `Bearer ${accessToken}` };
      const subject = await closedLoop(async () => {
        const response = await fetch(url, { headers });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET /api/v1/users/me answered ${response.status}`);
      }, load);
      return loadRows('2 gRPC GetMe → gateway GET /users/me', baseline, subject);
    } finally {
      users.close();
    }
  },
};

async function signUp(url: string): Promise<{ accessToken: string; principal: Principal }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: `bench-${randomUUID()}@example.com`,
      password: 'correct horse battery staple',
      name: 'Bench',
    }),
  });
  const body = (await response.json()) as { data?: { access_token?: string } };
  const accessToken = body.data?.access_token;
  if (response.status !== 201 || !accessToken) throw new Error(`register answered ${response.status}`);
  // The principal the gateway derives from the token (apps/api-gateway/src/auth/jwt.strategy.ts).
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as {
    sub: string;
    sid: string;
    roles?: string[];
    scope?: string;
  };
  return {
    accessToken,
    principal: {
      userId: claims.sub,
      roles: claims.roles ?? [],
      scopes: (claims.scope ?? '').split(' ').filter(Boolean),
      authMethod: 'jwt',
      sessionId: claims.sid,
    },
  };
}
