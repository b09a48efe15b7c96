import { ConfigError, env, loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import { z } from 'zod';
import { loadOidcProviders, type OidcProviderSettings } from './oidc/oidc-config.js';

/** Every variable user-service reads (the common service ones plus its own). Start-up lists each bad one. */
export const userServiceConfigSchema = serviceConfigSchema({
  name: 'user-service',
  grpcPort: 50051,
  httpPort: 8081,
  database: 'te_user',
})
  .extend({
    // Access tokens (decision 0006) and the signing key ring.
    JWT_ISSUER: z.string().min(1).default('https://te-explico.local'),
    JWT_AUDIENCE: z.string().min(1).default('te-explico-api'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
    SIGNING_KEY_ENCRYPTION_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be 32 bytes, base64 or base64url')
      .optional()
      .describe('AES-256-GCM key that encrypts signing keys at rest. Required in production'),
    JWT_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    JWT_KEY_PUBLISH_AHEAD_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .default(600)
      .describe(
        'a new key is in the JWKS this long before it signs (above the gateway JWKS refresh interval)',
      ),
    JWT_KEY_RING_CHECK_SECONDS: env
      .positiveInt(60)
      .describe('each replica re-reads the key ring this often; one replica checks for rotation as often'),
    // Sessions (refresh-token families, RFC 9700 §4.14).
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(14),
    SESSION_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    // Sign-in protection.
    LOGIN_MAX_FAILURES_PER_ACCOUNT: env.positiveInt(5).describe('failed sign-ins per account per window'),
    LOGIN_MAX_FAILURES_PER_IP: env.positiveInt(20).describe('failed sign-ins per client address per window'),
    LOGIN_FAILURE_WINDOW_SECONDS: env.positiveInt(900),
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(19_456).default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(2).default(2),
    ARGON2_PARALLELISM: z.coerce.number().int().min(1).default(1),
    // Accounts.
    ADMIN_EMAILS: env
      .list()
      // Compared with normalised account emails.
      .transform((emails) => emails.map((email) => email.normalize('NFKC').toLowerCase()))
      .describe('accounts with these emails get the admin role when created'),
    AUDIT_RETENTION_DAYS: env.positiveInt(365),
    API_KEY_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    // OpenID Connect sign-in: OIDC_PROVIDERS=google,corp and, for each, OIDC_<ID>_ISSUER,
    // OIDC_<ID>_CLIENT_ID, OIDC_<ID>_CLIENT_SECRET, OIDC_<ID>_SCOPES (see src/oidc/oidc-config.ts).
    OIDC_PROVIDERS: env.list(),
    OIDC_REDIRECT_BASE_URL: env
      .url()
      .default('http://localhost:8080')
      .describe(
        'public base URL of the gateway; callbacks go to <base>/api/v1/auth/oidc/<provider>/callback',
      ),
  })
  .refine((config) => config.NODE_ENV !== 'production' || config.SIGNING_KEY_ENCRYPTION_KEY, {
    path: ['SIGNING_KEY_ENCRYPTION_KEY'],
    message: 'is required in production (signing keys are stored encrypted with it)',
  });

export type UserServiceConfig = z.infer<typeof userServiceConfigSchema> & {
  /** OIDC_PROVIDERS with each provider's OIDC_<ID>_* variables (src/oidc/oidc-config.ts). */
  oidcProviders: OidcProviderSettings[];
};

export function loadUserServiceConfig(environment: NodeJS.ProcessEnv = process.env): UserServiceConfig {
  // Per-provider variables have dynamic names, so they are read beside the schema; one ConfigError
  // still lists every bad variable of both.
  const problems: ConfigError['problems'] = [];
  const read = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const config = read(() => loadConfig(userServiceConfigSchema, environment));
  const oidcProviders = read(() => loadOidcProviders(environment));
  if (!config || !oidcProviders) throw new ConfigError(problems);
  return { ...config, oidcProviders };
}
