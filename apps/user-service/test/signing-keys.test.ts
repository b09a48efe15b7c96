import { createPrivateKey, createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type pg from 'pg';
import { callUnary } from '@te/grpc';
import { waitFor, type ServiceTestEnv } from '@te/testing';
import { KeyEncryptionKey } from '../src/auth/key-encryption.js';
import {
  createIdentityEnv,
  failure,
  PASSWORD,
  queryPool,
  registerAndLogin,
  runJobNow,
  startUserService,
  type RunningUserService,
} from './support/identity.harness.js';

// The key ring: two replicas of user-service on one database, both on one test clock that the test
// moves through a rotation period (real PostgreSQL, Redis and gRPC).
const DAY_MS = 24 * 3600_000;
const TTL_SECONDS = 900;
const AHEAD_SECONDS = 600;
const SKEW_MARGIN_SECONDS = 300;
const KEK = randomBytes(32).toString('base64url');

describe('signing key ring (two in-process replicas)', () => {
  let env: ServiceTestEnv;
  let a: RunningUserService;
  let b: RunningUserService;
  let db: pg.Pool;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const settings = {
    SIGNING_KEY_ENCRYPTION_KEY: KEK,
    JWT_KEY_RING_CHECK_SECONDS: '1',
    JWT_KEY_ROTATION_DAYS: '30',
    JWT_KEY_PUBLISH_AHEAD_SECONDS: String(AHEAD_SECONDS),
    ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS),
  };

  beforeAll(async () => {
    env = await createIdentityEnv();
    [a, b] = await Promise.all([
      startUserService(env, settings, { clock }),
      startUserService(env, settings, { clock }),
    ]);
    db = queryPool(env);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.end();
    await env?.cleanup();
  });

  const jwks = async (service: RunningUserService) => (await callUnary(service.users, 'GetJwks', {})).keys;
  const kids = async (service: RunningUserService) => (await jwks(service)).map((key) => key.kid).sort();
  const kidOf = (token: string) => jwt.decode(token, { complete: true })!.header.kid!;
  const signIn = async (service: RunningUserService, email: string) =>
    (await callUnary(service.users, 'Login', { email, password: PASSWORD })).session!.accessToken!.token;
  const keyRows = async () =>
    (await db.query('SELECT * FROM signing_keys ORDER BY activates_at')).rows as Record<string, unknown>[];
  /** Verifies a token with the JWKS a replica publishes now (as the gateway does). */
  const verifiesWith = async (service: RunningUserService, token: string) => {
    const jwk = (await jwks(service)).find((key) => key.kid === kidOf(token));
    if (!jwk) return false;
    const key = createPublicKey({
      key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey,
      format: 'jwk',
    });
    return Boolean(jwt.verify(token, key, { algorithms: ['ES256'] }));
  };

  it('When two replicas start together on an empty database, then exactly one key is created and both publish and sign with it', async () => {
    const [fromA, fromB] = await Promise.all([jwks(a), jwks(b)]);

    expect(await keyRows()).toHaveLength(1);
    expect(fromA).toEqual(fromB);
    expect(fromA).toEqual([
      expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) }),
    ]);
    const { email } = await registerAndLogin(a);
    expect(kidOf(await signIn(a, email))).toBe(fromA[0].kid);
    expect(kidOf(await signIn(b, email))).toBe(fromA[0].kid);
  });

  it('When the key row is read, then the private key is only there encrypted under SIGNING_KEY_ENCRYPTION_KEY', async () => {
    const [row] = await keyRows();
    const stored = row['private_key_encrypted'] as Buffer;
    const publicJwk = row['public_jwk'] as Record<string, string>;

    expect(publicJwk).not.toHaveProperty('d');
    const der = KeyEncryptionKey.fromConfig(KEK).decrypt(String(row['kid']), stored);
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const { d, x } = privateKey.export({ format: 'jwk' });
    expect(x).toBe(publicJwk['x']); // the stored key is the published key's private half
    expect(stored.includes(der)).toBe(false);
    expect(stored.includes(Buffer.from(d!, 'base64url'))).toBe(false);
    expect(stored.toString('latin1')).not.toContain('PRIVATE KEY');
    expect(() =>
      KeyEncryptionKey.fromConfig(randomBytes(32).toString('base64')).decrypt(String(row['kid']), stored),
    ).toThrow('cannot be decrypted');
  });

  it('When a replica has another encryption key, then it is not ready and cannot sign (it never signs with a key of its own)', async () => {
    const wrong = await startUserService(env, {
      ...settings,
      SIGNING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    });
    try {
      const ready = await fetch(`http://127.0.0.1:${wrong.opsPort}/readyz`);
      expect(ready.status).toBe(503);
      expect(
        ((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks['signing-keys']?.ok,
      ).toBe(false);
      expect((await failure(callUnary(wrong.users, 'GetJwks', {}))).code).toBe('INTERNAL');
      expect(await keyRows()).toHaveLength(1);
    } finally {
      await wrong.stop();
    }
  });

  it('When the signer is older than the rotation period, then a successor is published ahead, takes over at activation, and the old key leaves once its tokens have expired', async () => {
    const { email } = await registerAndLogin(a);
    const [original] = await kids(a);
    const oldToken = await signIn(a, email);

    // 31 days later the rotation job (one replica) publishes a successor that does not sign yet.
    offsetMs += 31 * DAY_MS;
    await runJobNow(a, 'signing-key-rotation');
    await waitFor(async () => (await kids(a)).length === 2 && (await kids(b)).length === 2, {
      timeoutMs: 10_000,
      description: 'both replicas to publish the successor',
    });
    expect(await kids(b)).toEqual(await kids(a));
    const successor = (await kids(a)).find((kid) => kid !== original)!;
    expect(kidOf(await signIn(a, email))).toBe(original);
    expect(kidOf(await signIn(b, email))).toBe(original);
    const [oldRow, newRow] = await keyRows();
    expect(oldRow['kid']).toBe(original);
    expect(oldRow['retires_at']).toEqual(newRow['activates_at']);
    expect((oldRow['expires_at'] as Date).getTime() - (newRow['activates_at'] as Date).getTime()).toBe(
      (TTL_SECONDS + SKEW_MARGIN_SECONDS) * 1000,
    );
    expect((newRow['activates_at'] as Date).getTime() - (newRow['published_at'] as Date).getTime()).toBe(
      AHEAD_SECONDS * 1000,
    );

    // Activation: both replicas sign with the successor; the old key's tokens still verify (overlap).
    offsetMs += (AHEAD_SECONDS + 1) * 1000;
    const newFromA = await signIn(a, email);
    const newFromB = await signIn(b, email);
    expect([kidOf(newFromA), kidOf(newFromB)]).toEqual([successor, successor]);
    expect(await kids(a)).toEqual([original, successor].sort());
    for (const token of [oldToken, newFromA, newFromB]) {
      expect(await verifiesWith(a, token)).toBe(true);
      expect(await verifiesWith(b, token)).toBe(true);
    }
    // A second rotation check within the period changes nothing.
    await runJobNow(b, 'signing-key-rotation');
    expect(await keyRows()).toHaveLength(2);

    // Past the old key's expiry: it leaves the JWKS of both replicas, and the purge deletes it.
    offsetMs += (TTL_SECONDS + SKEW_MARGIN_SECONDS) * 1000;
    expect(await kids(a)).toEqual([successor]);
    await waitFor(async () => (await kids(b)).length === 1, {
      timeoutMs: 10_000,
      description: 'replica b to drop the old key',
    });
    expect(await verifiesWith(b, oldToken)).toBe(false);
    await runJobNow(a, 'sessions-purge');
    expect((await keyRows()).map((row) => row['kid'])).toEqual([successor]);
    expect(kidOf(await signIn(b, email))).toBe(successor);
  });
});
