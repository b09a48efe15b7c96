import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from '@te/platform';

export interface PublicJwk {
  kid: string;
  kty: string;
  alg: string;
  use: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export interface JwksCacheOptions {
  fetchKeys: () => Promise<PublicJwk[]>;
  logger: Logger;
  /** Keys are refreshed in the background this often (rotation overlap must exceed it). */
  refreshIntervalMs?: number;
  /** An unknown `kid` triggers at most one refresh per this period, so random kids cannot flood the issuer. */
  minRefreshGapMs?: number;
}

/**
 * The signing keys of user-service, held in memory so tokens are verified locally (no call per
 * request). Only signature keys are kept; the strategy checks each key's algorithm. A key that cannot
 * be parsed is skipped (and logged), not allowed to void the others.
 */
export class JwksCache {
  private keys = new Map<string, { key: KeyObject; alg: string }>();
  private lastRefresh = 0;
  private refreshing?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: JwksCacheOptions) {}

  /** Loads the keys once; later refreshes happen in the background. */
  async start(): Promise<void> {
    await this.refresh().catch((error: unknown) => {
      this.options.logger.warn('could not load signing keys yet; will retry', { err: error });
    });
    this.timer = setInterval(
      () => void this.refresh().catch(() => undefined),
      this.options.refreshIntervalMs ?? 300_000,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Readiness: at least one key is loaded (loading now if none is). */
  async ensureLoaded(): Promise<void> {
    if (this.keys.size === 0) await this.refresh();
    if (this.keys.size === 0) throw new Error('user-service published no signing keys');
  }

  /** The verification key for `kid`, refreshing once if it is unknown; undefined when it stays unknown. */
  async getKey(kid: string): Promise<{ key: KeyObject; alg: string } | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    // With no keys at all (first load failed), every lookup may retry: nothing could verify anyway.
    if (this.keys.size === 0 || Date.now() - this.lastRefresh >= (this.options.minRefreshGapMs ?? 30_000)) {
      await this.refresh().catch((error: unknown) =>
        this.options.logger.warn('signing key refresh failed', { err: error }),
      );
    }
    return this.keys.get(kid);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    this.lastRefresh = Date.now();
    const jwks = await this.options.fetchKeys();
    const next = new Map<string, { key: KeyObject; alg: string }>();
    for (const jwk of jwks) {
      if (!jwk.kid || jwk.use !== 'sig') continue;
      try {
        next.set(jwk.kid, { key: createPublicKey({ key: toNodeJwk(jwk), format: 'jwk' }), alg: jwk.alg });
      } catch (error) {
        this.options.logger.warn('skipping a signing key that cannot be parsed', {
          kid: jwk.kid,
          err: error,
        });
      }
    }
    this.keys = next;
  }
}

function toNodeJwk(jwk: PublicJwk): JsonWebKey {
  const fields = Object.entries({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e });
  return Object.fromEntries(fields.filter(([, value]) => value)) as JsonWebKey;
}
