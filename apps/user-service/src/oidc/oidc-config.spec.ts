import { ConfigError } from '@te/platform';
import { loadUserServiceConfig } from '../config.js';
import { isLoopbackHttp, loadOidcProviders, providerVariable, redirectUriFor } from './oidc-config.js';

const corp = {
  OIDC_CORP_ISSUER: 'https://login.corp.example',
  OIDC_CORP_CLIENT_ID: 'te',
  OIDC_CORP_CLIENT_SECRET: 's3cret',
};

function problems(load: () => unknown): { variable: string; message: string }[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('OIDC provider configuration', () => {
  test('When no provider is listed, then there are none', () => {
    expect(loadOidcProviders({})).toEqual([]);
  });

  test('When two providers are listed with their variables, then both are read in order with the default scopes', () => {
    const providers = loadOidcProviders({
      OIDC_PROVIDERS: 'corp, google-work',
      ...corp,
      OIDC_GOOGLE_WORK_ISSUER: 'https://accounts.google.com',
      OIDC_GOOGLE_WORK_CLIENT_ID: 'g',
      OIDC_GOOGLE_WORK_CLIENT_SECRET: 'gs',
      OIDC_GOOGLE_WORK_SCOPES: 'openid email',
    });

    expect(providers).toEqual([
      {
        id: 'corp',
        issuer: corp.OIDC_CORP_ISSUER,
        clientId: 'te',
        clientSecret: 's3cret',
        scopes: ['openid', 'email', 'profile'],
      },
      {
        id: 'google-work',
        issuer: 'https://accounts.google.com',
        clientId: 'g',
        clientSecret: 'gs',
        scopes: ['openid', 'email'],
      },
    ]);
  });

  test('When variables are missing or bad, then one ConfigError lists each of them with the other bad variables of the service', () => {
    const listed = problems(() =>
      loadUserServiceConfig({
        GRPC_PORT: 'not-a-port',
        OIDC_PROVIDERS: 'corp,Bad_Id,corp,remote',
        OIDC_CORP_ISSUER: 'https://login.corp.example',
        OIDC_CORP_CLIENT_ID: 'te',
        OIDC_CORP_SCOPES: 'email profile',
        OIDC_REMOTE_ISSUER: 'http://idp.example.com',
        OIDC_REMOTE_CLIENT_ID: 'r',
        OIDC_REMOTE_CLIENT_SECRET: 'rs',
      }),
    );

    const variables = listed.map((problem) => problem.variable);
    expect(variables).toEqual(
      expect.arrayContaining([
        'GRPC_PORT',
        'OIDC_PROVIDERS',
        'OIDC_CORP_CLIENT_SECRET',
        'OIDC_CORP_SCOPES',
        'OIDC_BAD_ID_ISSUER',
        'OIDC_BAD_ID_CLIENT_ID',
        'OIDC_BAD_ID_CLIENT_SECRET',
        'OIDC_REMOTE_ISSUER',
      ]),
    );
    const messages = listed.filter((p) => p.variable === 'OIDC_PROVIDERS').map((p) => p.message);
    expect(messages).toEqual([
      expect.stringContaining('"Bad_Id" is not a provider id'),
      '"corp" is listed twice',
    ]);
    expect(listed.find((p) => p.variable === 'OIDC_REMOTE_ISSUER')!.message).toMatch(/https/);
    expect(listed.find((p) => p.variable === 'OIDC_CORP_SCOPES')!.message).toBe('must include openid');
  });

  test('When the issuer is plain http, then only loopback hosts are accepted', () => {
    expect(isLoopbackHttp(new URL('http://127.0.0.1:9000'))).toBe(true);
    expect(isLoopbackHttp(new URL('http://localhost:9000/tenant'))).toBe(true);
    expect(isLoopbackHttp(new URL('http://127.0.0.1.nip.io'))).toBe(false);
    expect(isLoopbackHttp(new URL('http://idp.example.com'))).toBe(false);
    expect(isLoopbackHttp(new URL('https://127.0.0.1'))).toBe(false);
  });

  test('When the service config is loaded, then it carries the providers and the callback is under the gateway base URL', () => {
    const config = loadUserServiceConfig({
      OIDC_PROVIDERS: 'corp',
      ...corp,
      OIDC_REDIRECT_BASE_URL: 'https://api.te.example/',
    });

    expect(config.oidcProviders.map((provider) => provider.id)).toEqual(['corp']);
    expect(redirectUriFor(config.OIDC_REDIRECT_BASE_URL, 'corp')).toBe(
      'https://api.te.example/api/v1/auth/oidc/corp/callback',
    );
    expect(providerVariable('google-work', 'CLIENT_SECRET')).toBe('OIDC_GOOGLE_WORK_CLIENT_SECRET');
  });
});
