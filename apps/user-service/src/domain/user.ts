/** A user as the domain sees it: no password hash, no persistence details. */
export interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
  createdAt: Date;
}

/** What the store keeps; the hash never leaves the service. */
export interface UserWithCredentials extends User {
  passwordHash: string;
}

export const DEFAULT_ROLES = ['user'];

/** Data of the `user.registered` event (the contract with every consumer; add fields, never rename). */
export interface UserRegisteredData {
  user_id: string;
  email: string;
  name: string;
  roles: string[];
  registered_at: string;
}

export const USER_REGISTERED = 'user.registered';
