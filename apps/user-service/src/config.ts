import { loadConfig } from '@te/platform';
import { serviceConfigSchema } from '@te/service-host';
import { z } from 'zod';

/** Every variable user-service reads (the common service ones plus its own). Start-up lists each bad one. */
export const userServiceConfigSchema = serviceConfigSchema({
  name: 'user-service',
  grpcPort: 50051,
  httpPort: 8081,
  database: 'te_user',
})
  .extend({
    JWT_ISSUER: z.string().min(1).default('https://te-explico.local'),
    JWT_AUDIENCE: z.string().min(1).default('te-explico-api'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
    JWT_SIGNING_KEY: z
      .string()
      .optional()
      .describe(
        'EC P-256 private key, PEM (PKCS#8). Required in production; development generates one per process',
      ),
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(19_456).default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(2).default(2),
    ARGON2_PARALLELISM: z.coerce.number().int().min(1).default(1),
  })
  .refine((config) => config.NODE_ENV !== 'production' || config.JWT_SIGNING_KEY, {
    path: ['JWT_SIGNING_KEY'],
    message: 'is required in production (an ephemeral key would invalidate tokens on every restart)',
  });

export type UserServiceConfig = z.infer<typeof userServiceConfigSchema>;

export function loadUserServiceConfig(environment: NodeJS.ProcessEnv = process.env): UserServiceConfig {
  return loadConfig(userServiceConfigSchema, environment);
}
