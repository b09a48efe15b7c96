/** A user as the domain sees it: no password hash, no persistence details. */
export interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
  locale: string;
  preferences: Record<string, unknown>;
  createdAt: Date;
}

/** What the store keeps; the hash never leaves the service. Null: the account signs in only through OIDC. */
export interface UserWithCredentials extends User {
  passwordHash: string | null;
}

export const DEFAULT_ROLES = ['user'];

/** Roles of a new account: `admin` too when its email is one of ADMIN_EMAILS (bootstrap of operators). */
export function rolesForNewAccount(email: string, adminEmails: readonly string[]): string[] {
  return adminEmails.includes(email) ? [...DEFAULT_ROLES, 'admin'] : [...DEFAULT_ROLES];
}

/** Data of the `user.registered` event (the contract with every consumer; add fields, never rename). */
export interface UserRegisteredData {
  user_id: string;
  email: string;
  name: string;
  roles: string[];
  registered_at: string;
}

export const USER_REGISTERED = 'user.registered';
