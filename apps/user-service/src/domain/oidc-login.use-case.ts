import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createEvent, type EventEnvelope } from '@te/events';
import { AppError } from '@te/platform';
import { isPlausibleEmail, normaliseEmail } from './email.js';
import type { SessionIssuer, SessionTokens, UserStore } from './ports.js';
import type { SecurityAudit } from './security-audit.js';
import { rolesForNewAccount, USER_REGISTERED, type User, type UserRegisteredData } from './user.js';

/** The secrets of one sign-in attempt, kept server-side under its state until the callback (single use). */
export interface OidcAttempt {
  provider: string;
  state: string;
  nonce: string;
  /** PKCE code_verifier (RFC 7636); only its S256 challenge leaves the service. */
  codeVerifier: string;
  /** SHA-256 of the browser binding the caller set as a cookie. */
  bindingHash: string;
}

/** What a provider asserted about the user, after the ID token (and userinfo) were validated. */
export interface OidcClaims {
  subject: string;
  email?: string;
  /** Only a JSON `true` from the provider counts. */
  emailVerified: boolean;
  name?: string;
}

/** The relying-party protocol work (openid-client): authorization request, code exchange, ID token checks. */
export interface OidcRelyingParty {
  readonly providerIds: readonly string[];
  authorizationUrl(provider: string, attempt: OidcAttempt): Promise<string>;
  /** Checks state/iss, redeems the code with the verifier, validates the ID token (iss, aud, exp, nonce). */
  redeem(provider: string, callback: URLSearchParams, attempt: OidcAttempt): Promise<OidcClaims>;
}

export interface OidcAttemptStore {
  save(attempt: OidcAttempt, ttlSeconds: number): Promise<void>;
  /** Returns and deletes the attempt in one step, so a state is redeemable once. */
  take(state: string): Promise<OidcAttempt | undefined>;
}

export interface OidcIdentity {
  provider: string;
  subject: string;
  email?: string;
}

/** Linked identities; `createUser` writes the account, its identity and its events in one transaction. */
export interface OidcIdentityStore {
  findUser(provider: string, subject: string): Promise<User | undefined>;
  /** CONFLICT when the identity was linked meanwhile. */
  link(userId: string, identity: OidcIdentity): Promise<void>;
  /** CONFLICT when the email or the identity was taken meanwhile. */
  createUser(
    user: { email: string; name: string; roles: string[] },
    identity: OidcIdentity,
    events: (user: User) => EventEnvelope[],
  ): Promise<User>;
}

export interface OidcLoginDeps {
  relyingParty: OidcRelyingParty;
  attempts: OidcAttemptStore;
  identities: OidcIdentityStore;
  users: Pick<UserStore, 'findByEmailWithCredentials'>;
  sessions: SessionIssuer;
  audit: SecurityAudit;
  adminEmails: readonly string[];
  source: string;
}

/** Long enough to sign in at the provider; short enough that a leaked state is soon worthless. */
export const OIDC_ATTEMPT_TTL_SECONDS = 600;
const NAME_MAX_LENGTH = 100;

export async function startOidcLogin(
  provider: string,
  deps: Pick<OidcLoginDeps, 'relyingParty' | 'attempts'>,
): Promise<{ authorizationUrl: string; browserBinding: string }> {
  assertKnown(provider, deps.relyingParty);
  // Fresh, unguessable values per attempt (RFC 9700 §2.1: PKCE and a one-time state; OIDC Core §3.1.2.1 nonce).
  const browserBinding = randomToken();
  const attempt: OidcAttempt = {
    provider,
    state: randomToken(),
    nonce: randomToken(),
    codeVerifier: randomToken(),
    bindingHash: sha256(browserBinding),
  };
  const authorizationUrl = await deps.relyingParty.authorizationUrl(provider, attempt);
  await deps.attempts.save(attempt, OIDC_ATTEMPT_TTL_SECONDS);
  return { authorizationUrl, browserBinding };
}

export interface CompleteOidcLoginInput {
  provider: string;
  callbackUrl: string;
  browserBinding: string;
}

/**
 * Finishes a sign-in from the provider's redirect. The account is the one already linked to
 * (provider, sub); else the one with the same email when the provider verified it (linked now); else
 * a new one. An unverified or missing email never links or creates: the account would belong to
 * whoever controls that claim at the provider (account takeover / pre-hijacking).
 */
export async function completeOidcLogin(
  input: CompleteOidcLoginInput,
  deps: OidcLoginDeps,
): Promise<{ user: User; session: SessionTokens; created: boolean }> {
  assertKnown(input.provider, deps.relyingParty);
  const method = `oidc:${input.provider}`;
  const callback = callbackParams(input.callbackUrl);
  const attempt = await takeAttempt(callback, input, deps);
  const fail = async (reason: string, error: AppError, userId?: string): Promise<never> => {
    await deps.audit.record({ userId, type: 'sign_in_failed', details: { method, reason } });
    throw error;
  };
  if (!attempt) return fail('invalid_state', invalidAttempt());

  // The provider reported a failure (user cancelled, consent refused...). Its description is
  // attacker-influenced text: never echoed.
  const providerError = callback.get('error');
  if (providerError !== null) {
    const reason = /^[a-z_]{1,64}$/.test(providerError) ? providerError : 'provider_error';
    return fail(reason, new AppError('UNAUTHENTICATED', 'The provider did not complete the sign-in'));
  }

  const claims = await deps.relyingParty
    .redeem(input.provider, callback, attempt)
    .catch((error: unknown) =>
      error instanceof AppError && error.code === 'UNAUTHENTICATED'
        ? fail('invalid_provider_response', error)
        : Promise.reject(error),
    );

  let resolved: { user: User; created: boolean } | undefined;
  for (let round = 0; !resolved; round++) {
    try {
      resolved = await resolveAccount(input.provider, claims, deps, fail);
    } catch (error) {
      // A concurrent sign-in or registration took the identity or the email: resolve again once.
      if (round > 0 || !(error instanceof AppError) || error.code !== 'CONFLICT') throw error;
    }
  }
  const session = await deps.sessions.start(resolved.user, { authMethod: method });
  await deps.audit.record({ userId: resolved.user.id, type: 'sign_in', details: { method } });
  return { ...resolved, session };
}

async function resolveAccount(
  provider: string,
  claims: OidcClaims,
  deps: OidcLoginDeps,
  fail: (reason: string, error: AppError, userId?: string) => Promise<never>,
): Promise<{ user: User; created: boolean }> {
  const linked = await deps.identities.findUser(provider, claims.subject);
  if (linked) return { user: linked, created: false };

  const email = claims.email === undefined ? undefined : normaliseEmail(claims.email);
  if (!email || !isPlausibleEmail(email)) {
    return fail('email_missing', emailRequired('The provider did not share an email address'));
  }
  const identity: OidcIdentity = { provider, subject: claims.subject, email };
  const found = await deps.users.findByEmailWithCredentials(email);
  if (!claims.emailVerified) {
    // Shown to the account owner in their security log: someone tried to claim their address.
    return fail(
      'email_unverified',
      emailRequired('The provider has not verified this email address'),
      found?.id,
    );
  }
  if (found) {
    const { passwordHash: _hidden, ...user } = found;
    await deps.identities.link(user.id, identity);
    await deps.audit.record({ userId: user.id, type: 'oidc_linked', details: { provider } });
    return { user, created: false };
  }

  const user = await deps.identities.createUser(
    { email, name: displayName(claims, email), roles: rolesForNewAccount(email, deps.adminEmails) },
    identity,
    (created) => [registeredEvent(created, deps.source)],
  );
  await deps.audit.record({
    userId: user.id,
    type: 'account_created',
    details: { method: `oidc:${provider}` },
  });
  return { user, created: true };
}

async function takeAttempt(
  callback: URLSearchParams,
  input: CompleteOidcLoginInput,
  deps: OidcLoginDeps,
): Promise<OidcAttempt | undefined> {
  const states = callback.getAll('state');
  if (states.length !== 1 || !/^[A-Za-z0-9_-]{16,128}$/.test(states[0])) return undefined;
  const attempt = await deps.attempts.take(states[0]);
  // The attempt is gone either way: a state is never tried twice. It must be this provider's (mix-up
  // attacks, RFC 9700 §4.4) and come back to the browser that started it (CSRF, RFC 9700 §4.7.1).
  if (!attempt || attempt.provider !== input.provider) return undefined;
  const given = Buffer.from(sha256(input.browserBinding));
  if (!input.browserBinding || !timingSafeEqual(given, Buffer.from(attempt.bindingHash))) return undefined;
  return attempt;
}

function callbackParams(callbackUrl: string): URLSearchParams {
  if (!URL.canParse(callbackUrl)) {
    throw new AppError('VALIDATION_FAILED', 'The callback URL is invalid', {
      fields: [{ field: 'callback_url', message: 'must be an absolute URL' }],
    });
  }
  return new URL(callbackUrl).searchParams;
}

function assertKnown(provider: string, relyingParty: OidcRelyingParty): void {
  if (!relyingParty.providerIds.includes(provider)) {
    throw new AppError('NOT_FOUND', 'Unknown sign-in provider');
  }
}

function displayName(claims: OidcClaims, email: string): string {
  // Control characters (Unicode Cc) break logs and UIs; the name is the provider's, so it is cleaned, not refused.
  const name = (claims.name ?? '')
    .normalize('NFKC')
    .replace(/\p{Cc}/gu, '')
    .trim();
  return [...(name || email.split('@')[0])].slice(0, NAME_MAX_LENGTH).join('');
}

function registeredEvent(user: User, source: string): EventEnvelope<UserRegisteredData> {
  return createEvent<UserRegisteredData>({
    type: USER_REGISTERED,
    source,
    subject: user.id,
    data: {
      user_id: user.id,
      email: user.email,
      name: user.name,
      roles: user.roles,
      registered_at: user.createdAt.toISOString(),
    },
  });
}

function invalidAttempt(): AppError {
  return new AppError('UNAUTHENTICATED', 'The sign-in attempt is invalid or has expired; start again');
}

function emailRequired(message: string): AppError {
  return new AppError('FORBIDDEN', `${message}; sign in another way or verify it at the provider`);
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
