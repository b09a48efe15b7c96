// A real OpenID Provider (npm `oidc-provider`) on loopback, for tests of the relying-party side.
// Run as its own Node process (oidc-provider is ESM-only and large; a child process keeps Jest's module
// system out of it). Started by test/support/openid-provider.ts (user-service tests) and by the
// gateway's end-to-end test, which is why it is plain JavaScript with no imports from the workspace.
//
// Input: OP_FIXTURE_CONFIG (JSON):
//   { clients: [{ client_id, client_secret, redirect_uris }],
//     idTokenClaims: boolean  — true: email and name are in the ID token (like Google);
//                               false: only `sub` is, the rest comes from the userinfo endpoint,
//     port?: number           — default: a free one }
// Output: one JSON line on stdout once listening: { "issuer": "http://127.0.0.1:<port>" }.
//
// Accounts are created by the test: PUT /test/accounts/<id> with the claims as JSON (email,
// email_verified, name). The dev interactions (login and consent forms of oidc-provider) are driven
// over HTTP: POST /interaction/<uid> with prompt=login&login=<account id>, then prompt=consent.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OP_FIXTURE_CONFIG ?? '{}');
const accounts = new Map();

const server = http.createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((client) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  // PKCE is required for every client, so a relying party that forgot the verifier fails here.
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: !config.idTokenClaims,
  cookies: { keys: ['openid-provider-fixture-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const claims = accounts.get(id);
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
});
// Tests run over plain HTTP on loopback.
provider.proxy = false;

const handle = provider.callback();
server.on('request', (req, res) => {
  const account = /^\/test\/accounts\/([^/?]+)$/.exec(req.url ?? '');
  if (req.method === 'PUT' && account) {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      accounts.set(decodeURIComponent(account[1]), JSON.parse(body || '{}'));
      res.writeHead(204).end();
    });
    return;
  }
  handle(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
