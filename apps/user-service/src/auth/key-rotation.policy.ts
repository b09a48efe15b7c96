/**
 * When signing keys are created, start signing, retire and leave the JWKS. Pure: the key ring applies
 * the plan under a database lock, so every replica follows the same timestamps.
 *
 * Life of a key (RFC 7517 §4.5 kid; rotation with overlap as RFC 8725 §3.x and the OWASP key
 * management cheat sheet recommend):
 *   publishedAt ── in the JWKS ── activatesAt ── signs ── retiresAt ── still in the JWKS ── expiresAt
 * A new key is published `publishAheadSeconds` before it signs, so every verifier has fetched it before
 * the first token it signs arrives; the key it replaces retires at that moment and stays published until
 * every token it signed has expired (access-token lifetime + a clock-skew margin).
 */
export interface KeySchedule {
  kid: string;
  publishedAt: Date;
  activatesAt: Date;
  retiresAt: Date | null;
  expiresAt: Date | null;
}

export interface RotationSettings {
  rotationDays: number;
  publishAheadSeconds: number;
  accessTokenTtlSeconds: number;
}

export interface RotationPlan {
  /** A key to create with this schedule (retiresAt/expiresAt open until the next rotation). */
  create?: { publishedAt: Date; activatesAt: Date };
  /** Keys that stop signing when the new one starts. */
  retire: { kid: string; retiresAt: Date; expiresAt: Date }[];
}

/**
 * Verifiers accept tokens up to their own clock tolerance after `exp` (the gateway's is at most 300 s),
 * so a retired key stays published this much longer than the last token it signed lives.
 */
export const CLOCK_SKEW_MARGIN_SECONDS = 300;

const DAY_MS = 24 * 3600_000;

export function isActive(key: KeySchedule, now: Date): boolean {
  return key.activatesAt <= now && (key.retiresAt === null || key.retiresAt > now);
}

export function isPublished(key: KeySchedule, now: Date): boolean {
  return key.publishedAt <= now && (key.expiresAt === null || key.expiresAt > now);
}

/** The key that signs at `now`: the newest active one. */
export function currentSigner<K extends KeySchedule>(keys: readonly K[], now: Date): K | undefined {
  return keys
    .filter((key) => isActive(key, now))
    .sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime())[0];
}

/**
 * `mode: 'bootstrap'` only makes sure something can sign now (start-up); `'rotate'` also replaces a
 * signer older than the rotation period (the scheduled job).
 */
export function planRotation(
  keys: readonly KeySchedule[],
  now: Date,
  settings: RotationSettings,
  mode: 'bootstrap' | 'rotate',
): RotationPlan {
  const signer = currentSigner(keys, now);
  const pending = keys.some((key) => key.activatesAt > now);
  let activatesAt: Date;
  if (!signer) {
    // Nothing can sign: a key that signs at once (a first start, or a ring that was emptied by hand).
    activatesAt = now;
  } else if (
    mode === 'rotate' &&
    !pending &&
    now.getTime() - signer.activatesAt.getTime() >= settings.rotationDays * DAY_MS
  ) {
    activatesAt = new Date(now.getTime() + settings.publishAheadSeconds * 1000);
  } else {
    return { retire: [] };
  }
  const expiresAt = new Date(
    activatesAt.getTime() + (settings.accessTokenTtlSeconds + CLOCK_SKEW_MARGIN_SECONDS) * 1000,
  );
  // Every key still signing (or due to) stops when the new one starts.
  const retire = keys
    .filter((key) => key.retiresAt === null || key.retiresAt > activatesAt)
    .filter((key) => key.activatesAt <= now)
    .map((key) => ({ kid: key.kid, retiresAt: activatesAt, expiresAt }));
  return { create: { publishedAt: now, activatesAt }, retire };
}
