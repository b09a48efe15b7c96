import { ConfigError, env, loadConfig } from '@te/platform';

type ConfigProblem = ConfigError['problems'][number];
import { z } from 'zod';

/** One OpenID Provider users may sign in with, from OIDC_PROVIDERS and its OIDC_<ID>_* variables. */
export interface OidcProviderSettings {
  /** As in the URLs: /api/v1/auth/oidc/<id>/start. */
  id: string;
  /** Issuer identifier; discovery reads <issuer>/.well-known/openid-configuration. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

// Provider ids appear in URLs, Redis keys, audit rows and environment variable names.
const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;
const DEFAULT_SCOPES = 'openid email profile';

/** OIDC_<ID>_<NAME>: "corp-sso" → OIDC_CORP_SSO_ISSUER. */
export function providerVariable(id: string, name: 'ISSUER' | 'CLIENT_ID' | 'CLIENT_SECRET' | 'SCOPES') {
  return `OIDC_${id.toUpperCase().replace(/-/g, '_')}_${name}`;
}

/** Plain http is for an issuer on this machine only (tests, local development); anything else needs TLS. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

const issuerUrl = z.url().refine(
  (value) => {
    const url = new URL(value);
    return (url.protocol === 'https:' || isLoopbackHttp(url)) && !url.search && !url.hash;
  },
  { message: 'must be an https URL without query or fragment (http only on localhost/127.0.0.1)' },
);

const scopeList = z
  .string()
  .default(DEFAULT_SCOPES)
  .transform((value) => [...new Set(value.split(/[\s,]+/).filter(Boolean))])
  .refine((scopes) => scopes.includes('openid'), { message: 'must include openid' })
  .refine((scopes) => scopes.every((scope) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)), {
    message: 'must be space-separated scope tokens (RFC 6749 §3.3)',
  });

/**
 * Reads OIDC_PROVIDERS (comma-separated ids) and, for each, OIDC_<ID>_ISSUER, _CLIENT_ID,
 * _CLIENT_SECRET and optional _SCOPES (default "openid email profile"). Throws ConfigError listing
 * every missing or bad variable; loadUserServiceConfig merges the list with the other variables'.
 */
export function loadOidcProviders(environment: NodeJS.ProcessEnv): OidcProviderSettings[] {
  const ids = loadConfig(z.object({ OIDC_PROVIDERS: env.list() }), environment).OIDC_PROVIDERS;
  const shape: Record<string, z.ZodType> = {};
  for (const id of ids) {
    shape[providerVariable(id, 'ISSUER')] = issuerUrl;
    shape[providerVariable(id, 'CLIENT_ID')] = z.string().min(1);
    shape[providerVariable(id, 'CLIENT_SECRET')] = z.string().min(1);
    shape[providerVariable(id, 'SCOPES')] = scopeList;
  }
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (!PROVIDER_ID.test(id)) {
      problems.push({
        variable: 'OIDC_PROVIDERS',
        message: `"${id}" is not a provider id (a-z, 0-9 and "-", starting with a letter, at most 32)`,
      });
    }
    if (seen.has(id)) problems.push({ variable: 'OIDC_PROVIDERS', message: `"${id}" is listed twice` });
    seen.add(id);
  }
  let values: Record<string, unknown> = {};
  try {
    values = loadConfig(z.object(shape), environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length) throw new ConfigError(problems);
  return ids.map((id) => ({
    id,
    issuer: values[providerVariable(id, 'ISSUER')] as string,
    clientId: values[providerVariable(id, 'CLIENT_ID')] as string,
    clientSecret: values[providerVariable(id, 'CLIENT_SECRET')] as string,
    scopes: values[providerVariable(id, 'SCOPES')] as string[],
  }));
}

/** Where the provider sends the browser back: the gateway's callback route for this provider. */
export function redirectUriFor(redirectBaseUrl: string, providerId: string): string {
  return `${redirectBaseUrl.replace(/\/+$/, '')}/api/v1/auth/oidc/${providerId}/callback`;
}
