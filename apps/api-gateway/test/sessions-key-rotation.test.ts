import pg from 'pg';
import { waitFor, openTestPool } from '@te/testing';
import {
  call,
  newCredentials,
  register,
  startGateway,
  type RunningGateway,
  type Session,
} from './support/gateway.harness.js';
import { decodeToken } from './support/tokens.js';
import { UserServiceProcess } from './support/user-service.process.js';

// Signing-key rotation seen from the outside: the built user-service rotates its key ring (short
// intervals through its config) while the gateway in this process keeps verifying every token.
// Time is moved by editing the ring's timestamps in user-service's database, as if the days had passed.
const PUBLISH_AHEAD_SECONDS = 3;
const ACCESS_TOKEN_TTL_SECONDS = 900;
const SKEW_MARGIN_SECONDS = 300;

let userService: UserServiceProcess | undefined;
let gateway: RunningGateway;
let db: pg.Pool;

beforeAll(async () => {
  userService = await UserServiceProcess.create({
    JWT_KEY_RING_CHECK_SECONDS: '1',
    JWT_KEY_ROTATION_DAYS: '30',
    JWT_KEY_PUBLISH_AHEAD_SECONDS: String(PUBLISH_AHEAD_SECONDS),
    ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS),
  });
  await userService.start();
  // The gateway re-reads the JWKS more often than keys are published ahead (as in production: 300 s < 600 s).
  gateway = await startGateway(userService.address, { JWKS_REFRESH_SECONDS: '1' });
  db = openTestPool(userService.databaseUrl, 2);
}, 180_000);

afterAll(async () => {
  await db?.end();
  await gateway?.stop();
  await userService?.dispose();
}, 60_000);

const publishedKids = async () => {
  const response = await fetch(`${gateway.baseUrl}/.well-known/jwks.json`);
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort();
};
const me = (accessToken: string) =>
  call(gateway.baseUrl, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${accessToken}` } });
const kidOf = (accessToken: string) => String(decodeToken(accessToken).header['kid']);

test('When user-service rotates its signing key, then old and new keys overlap in the JWKS, tokens of both verify, and once the old key expires its tokens are refused', async () => {
  const { credentials, body } = await register(gateway.baseUrl, newCredentials('rotation'));
  const before = body.data!;
  const original = kidOf(before.access_token);
  expect(await publishedKids()).toEqual([original]);

  // 31 days pass: the rotation job publishes a successor that signs PUBLISH_AHEAD_SECONDS later.
  await db.query(
    "UPDATE signing_keys SET published_at = published_at - interval '31 days', activates_at = activates_at - interval '31 days'",
  );
  await waitFor(async () => (await publishedKids()).length === 2, {
    timeoutMs: 20_000,
    intervalMs: 200,
    description: 'the successor key to be published',
  });
  const successor = (await publishedKids()).find((kid) => kid !== original)!;
  const { rows } = await db.query<{
    kid: string;
    activates_at: Date;
    retires_at: Date | null;
    expires_at: Date | null;
  }>('SELECT kid, activates_at, retires_at, expires_at FROM signing_keys ORDER BY activates_at');
  expect(rows.map((row) => row.kid)).toEqual([original, successor]);
  expect(rows[0].retires_at).toEqual(rows[1].activates_at);
  expect(rows[0].expires_at!.getTime() - rows[0].retires_at!.getTime()).toBe(
    (ACCESS_TOKEN_TTL_SECONDS + SKEW_MARGIN_SECONDS) * 1000,
  );

  // At activation new sign-ins get tokens of the successor, which the gateway already knows.
  const after = await waitFor(
    async () => {
      const response = await call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/login', {
        json: { email: credentials.email, password: credentials.password },
      });
      return kidOf(response.body.data!.access_token) === successor ? response.body.data! : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 500, description: 'a token signed by the successor' },
  );
  expect((await me(after.access_token)).status).toBe(200);
  expect((await me(before.access_token)).status).toBe(200); // the overlap: old tokens still verify
  const refreshed = await call<Session>(gateway.baseUrl, 'POST', '/api/v1/auth/refresh', {
    json: { refresh_token: before.refresh_token },
  });
  expect(kidOf(refreshed.body.data!.access_token)).toBe(successor);
  expect(await publishedKids()).toEqual([original, successor].sort());

  // Every token of the old key has expired (ACCESS_TOKEN_TTL + margin later): it leaves the JWKS,
  // and a token it signed that is somehow still unexpired is refused.
  await db.query('UPDATE signing_keys SET expires_at = now() WHERE kid = $1', [original]);
  await waitFor(async () => (await publishedKids()).length === 1, {
    timeoutMs: 20_000,
    intervalMs: 200,
    description: 'the old key to leave the JWKS',
  });
  expect(await publishedKids()).toEqual([successor]);
  await waitFor(async () => (await me(before.access_token)).status === 401, {
    timeoutMs: 20_000,
    intervalMs: 200,
    description: 'the gateway to drop the old key',
  });
  expect((await me(after.access_token)).status).toBe(200);
}, 120_000);
