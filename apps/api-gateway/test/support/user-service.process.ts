import { randomBytes } from 'node:crypto';
import { ServiceProcess, type ServiceProcessOptions, type ServiceTestEnv } from '@te/testing';
import { readSigningKey } from './signing-keys.js';
import type { TestKey } from './tokens.js';

/** The built user-service (for tests that spawn it themselves, with other settings). */
export const USER_SERVICE_ENTRY = 'apps/user-service/dist/main.js';

/** Issuer and audience both sides are configured with (not the defaults, so config really flows). */
export const JWT_ISSUER = 'https://gateway-tests.te.local';
export const JWT_AUDIENCE = 'te-gateway-tests';

/**
 * A real user-service (the built binary) with its own migrated database and a key-encryption key the
 * test knows, so it can read user-service's signing keys from the database and mint tokens the gateway
 * must reject for reasons other than the signature (the key ring lives in the database: a restart
 * keeps it). `env` adds variables (e.g. short key-ring intervals, ADMIN_EMAILS).
 */
export class UserServiceProcess extends ServiceProcess {
  private constructor(
    options: ServiceProcessOptions,
    testEnv: ServiceTestEnv,
    grpcPort: number,
    httpPort: number,
    /** user-service's SIGNING_KEY_ENCRYPTION_KEY (base64url). */
    readonly keyEncryptionKey: string,
  ) {
    super(options, testEnv, grpcPort, httpPort);
  }

  static async create(env: Record<string, string> = {}): Promise<UserServiceProcess> {
    const keyEncryptionKey = randomBytes(32).toString('base64url');
    const options = {
      name: 'user-service',
      databaseName: 'te_user',
      queues: ['user-service.usage'],
      env: { SIGNING_KEY_ENCRYPTION_KEY: keyEncryptionKey, JWT_ISSUER, JWT_AUDIENCE, ...env },
    };
    return new UserServiceProcess(options, ...(await ServiceProcess.allocate(options)), keyEncryptionKey);
  }

  /** The key user-service signs with now (or the one with this kid), decrypted from its database. */
  signingKey(which: 'current' | { kid: string } = 'current'): Promise<TestKey> {
    return readSigningKey(this.databaseUrl, this.keyEncryptionKey, which);
  }
}
