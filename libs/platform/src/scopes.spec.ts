import { isScope, scopesForRoles, SCOPES } from './scopes.js';

describe('scopes', () => {
  it('When a user signs in, then the session holds every user scope and no admin scope', () => {
    const scopes = scopesForRoles(['user']);
    expect(scopes).toEqual(
      expect.arrayContaining([SCOPES.profileRead, SCOPES.apiKeysWrite, SCOPES.usageRead]),
    );
    expect(scopes).not.toContain(SCOPES.adminUsageRead);
  });

  it('When an admin signs in, then the admin scopes are added once', () => {
    const scopes = scopesForRoles(['user', 'admin']);
    expect(scopes).toContain(SCOPES.adminUsageRead);
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  it('When roles are unknown, then they grant nothing; unknown scope names are not scopes', () => {
    expect(scopesForRoles(['superuser'])).toEqual([]);
    expect(isScope('profile:read')).toBe(true);
    expect(isScope('profile:*')).toBe(false);
  });
});
