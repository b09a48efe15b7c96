import * as client from 'openid-client';
import { AppError, type Logger } from '@te/platform';
import { isLoopbackHttp, type OidcProviderSettings } from './oidc-config.js';

interface Entry {
  config: Promise<client.Configuration>;
  discoveredAt: number;
}

export interface OidcDiscoveryOptions {
  logger: Logger;
  /** Per HTTP request to a provider (discovery, token, userinfo, JWKS). */
  timeoutSeconds?: number;
  /** Metadata is re-read after this long (endpoints and key locations rarely move). */
  maxAgeMs?: number;
}

/**
 * Each provider's metadata (OpenID Connect Discovery 1.0) and client configuration, discovered on
 * first use rather than at start-up, so an unreachable provider never stops the service and only its
 * own sign-ins fail. A failed discovery is not cached: the next sign-in tries again.
 */
export class OidcDiscoveryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly timeoutSeconds: number;
  private readonly maxAgeMs: number;

  constructor(
    private readonly providers: readonly OidcProviderSettings[],
    private readonly options: OidcDiscoveryOptions,
  ) {
    this.timeoutSeconds = options.timeoutSeconds ?? 10;
    this.maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
  }

  settings(id: string): OidcProviderSettings {
    const settings = this.providers.find((provider) => provider.id === id);
    if (!settings) throw new AppError('NOT_FOUND', 'Unknown sign-in provider');
    return settings;
  }

  async get(id: string): Promise<client.Configuration> {
    const settings = this.settings(id);
    const cached = this.entries.get(id);
    if (cached && Date.now() - cached.discoveredAt < this.maxAgeMs) return cached.config;

    const entry: Entry = { config: this.discover(settings), discoveredAt: Date.now() };
    this.entries.set(id, entry);
    try {
      return await entry.config;
    } catch (error) {
      if (this.entries.get(id) === entry) this.entries.delete(id);
      this.options.logger.warn('oidc discovery failed', {
        provider: id,
        issuer: settings.issuer,
        error_code: (error as { code?: unknown }).code,
        error_message: (error as Error).message,
      });
      throw new AppError('UNAVAILABLE', 'The sign-in provider cannot be reached; try again later', {
        cause: error,
      });
    }
  }

  private async discover(settings: OidcProviderSettings): Promise<client.Configuration> {
    const issuer = new URL(settings.issuer);
    // openid-client refuses http; loopback issuers (tests, local development) are the one exception,
    // decided by the URL itself so that no setting can downgrade a remote provider to plain http.
    const insecure = isLoopbackHttp(issuer);
    const options = {
      timeout: this.timeoutSeconds,
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    };
    const discovered = await client.discovery(
      issuer,
      settings.clientId,
      undefined,
      client.ClientSecretBasic(settings.clientSecret),
      options,
    );
    // client_secret_basic is the method every server must support (RFC 6749 §2.3.1) and the default
    // when none is advertised; a server that lists only client_secret_post gets that.
    const methods = discovered.serverMetadata().token_endpoint_auth_methods_supported;
    if (!methods || methods.includes('client_secret_basic') || !methods.includes('client_secret_post')) {
      return discovered;
    }
    const config = new client.Configuration(
      discovered.serverMetadata(),
      settings.clientId,
      undefined,
      client.ClientSecretPost(settings.clientSecret),
    );
    config.timeout = this.timeoutSeconds;
    if (insecure) client.allowInsecureRequests(config);
    return config;
  }
}
