/**
 * The security audit log (what OWASP's logging cheat sheet lists for authentication): every sign-in
 * and failure, lockouts, credential changes, key creation and revocation, session revocations. The
 * user reads their own at GET /api/v1/users/me/security-events. Details never hold secrets.
 */
export const SECURITY_EVENT_TYPES = [
  'account_created',
  'sign_in',
  'sign_in_failed',
  'lockout',
  'password_changed',
  'api_key_created',
  'api_key_revoked',
  'session_revoked',
  'logout',
  'logout_all',
  'refresh_token_reused',
  'oidc_linked',
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

export interface SecurityEventInput {
  /** Omitted when no account can be attributed (e.g. an address locked out). */
  userId?: string;
  type: SecurityEventType;
  details?: Record<string, unknown>;
}

export interface RecordedSecurityEvent {
  id: string;
  type: string;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
}

export interface SecurityAudit {
  /** Records an event with the client's IP and user agent from the request context. Never throws. */
  record(event: SecurityEventInput): Promise<void>;
  /** The user's events, newest first; `before` is the cursor of the previous page. */
  list(
    userId: string,
    options: { limit: number; before?: { createdAt: Date; id: string } },
  ): Promise<RecordedSecurityEvent[]>;
  /** Deletes events older than the cutoff; returns how many. */
  purgeOlderThan(cutoff: Date): Promise<number>;
}
