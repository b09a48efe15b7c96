/**
 * The permission vocabulary of the public API. Roles are what an account is (`user`, `admin`);
 * scopes are what a credential may do. A session gets every scope of its roles; an API key gets the
 * subset its owner chose. The gateway declares the scope each route needs; services re-check what
 * matters to them. Adding a scope is compatible; renaming one is not.
 */
export const SCOPES = {
  profileRead: 'profile:read',
  profileWrite: 'profile:write',
  securityRead: 'security:read',
  apiKeysRead: 'api_keys:read',
  apiKeysWrite: 'api_keys:write',
  usageRead: 'usage:read',
  explain: 'explain',
  /** The caller's own platform events as a stream (GET /api/v1/events). */
  eventsRead: 'events:read',
  /** The caller's outbound webhook endpoints and their delivery logs (GET /api/v1/webhooks…). */
  webhooksRead: 'webhooks:read',
  /** Creating, changing, deleting endpoints, rotating their secrets, replays and test events. */
  webhooksWrite: 'webhooks:write',
  adminUsageRead: 'admin:usage:read',
  /** The model registry's versions and aliases (ai-gateway-service's ModelAdmin). */
  adminModelsRead: 'admin:models:read',
  /** Creating versions, moving aliases and changing their weights, retiring versions. */
  adminModelsWrite: 'admin:models:write',
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

export const ROLES = { user: 'user', admin: 'admin' } as const;

const USER_SCOPES: Scope[] = [
  SCOPES.profileRead,
  SCOPES.profileWrite,
  SCOPES.securityRead,
  SCOPES.apiKeysRead,
  SCOPES.apiKeysWrite,
  SCOPES.usageRead,
  SCOPES.explain,
  SCOPES.eventsRead,
  SCOPES.webhooksRead,
  SCOPES.webhooksWrite,
];
const ADMIN_SCOPES: Scope[] = [
  ...USER_SCOPES,
  SCOPES.adminUsageRead,
  SCOPES.adminModelsRead,
  SCOPES.adminModelsWrite,
];

const ALL_SCOPES = new Set<string>(Object.values(SCOPES));

export function isScope(value: string): value is Scope {
  return ALL_SCOPES.has(value);
}

/** Every scope the given roles grant (unknown roles grant nothing). */
export function scopesForRoles(roles: readonly string[]): Scope[] {
  const granted = new Set<Scope>();
  for (const role of roles) {
    const scopes = role === ROLES.admin ? ADMIN_SCOPES : role === ROLES.user ? USER_SCOPES : [];
    for (const scope of scopes) granted.add(scope);
  }
  return [...granted];
}
