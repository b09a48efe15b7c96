import { isScope, scopesForRoles, SCOPES } from './scopes.js';

describe('scopes', () => {
  it('When a user signs in, then the session holds every user scope and no admin scope', () => {
    const scopes = scopesForRoles(['user']);
    expect(scopes).toEqual(
      expect.arrayContaining([SCOPES.profileRead, SCOPES.apiKeysWrite, SCOPES.usageRead]),
    );
    expect(scopes).not.toContain(SCOPES.adminUsageRead);
    expect(scopes).not.toContain(SCOPES.adminModelsRead);
    expect(scopes).not.toContain(SCOPES.adminModelsWrite);
    expect(scopes.filter((scope) => scope.startsWith('admin:'))).toEqual([]);
  });

  it('When an admin signs in, then the admin scopes are added once', () => {
    const scopes = scopesForRoles(['user', 'admin']);
    expect(scopes).toEqual(
      expect.arrayContaining([SCOPES.adminUsageRead, SCOPES.adminModelsRead, SCOPES.adminModelsWrite]),
    );
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  it('When a user signs in, then the session may read its own event stream', () => {
    expect(scopesForRoles(['user'])).toContain(SCOPES.eventsRead);
    expect(isScope('events:read')).toBe(true);
  });

  it('When a user signs in, then the session may manage its own webhooks', () => {
    expect(scopesForRoles(['user'])).toEqual(
      expect.arrayContaining([SCOPES.webhooksRead, SCOPES.webhooksWrite]),
    );
    expect([isScope('webhooks:read'), isScope('webhooks:write')]).toEqual([true, true]);
  });

  it('When roles are unknown, then they grant nothing; unknown scope names are not scopes', () => {
    expect(scopesForRoles(['superuser'])).toEqual([]);
    expect(isScope('profile:read')).toBe(true);
    expect(isScope('profile:*')).toBe(false);
  });
});
