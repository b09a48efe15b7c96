import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The fixture script (a real `oidc-provider` on loopback); the gateway's tests start it by this path too. */
export const OPENID_PROVIDER_SCRIPT = path.join(__dirname, 'openid-provider.mjs');

export interface OpenIdProviderOptions {
  clients: { client_id: string; client_secret: string; redirect_uris: string[] }[];
  /** true: email and name in the ID token (like Google); false: only in userinfo. */
  idTokenClaims?: boolean;
  /** Listen on this port (default: a free one). */
  port?: number;
}

export interface AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** A running OpenID Provider in its own process, with accounts the test creates. */
export class OpenIdProvider {
  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    private readonly output: () => string,
  ) {}

  static async start(options: OpenIdProviderOptions): Promise<OpenIdProvider> {
    const child = spawn(process.execPath, [OPENID_PROVIDER_SCRIPT], {
      env: { PATH: process.env['PATH'] ?? '', OP_FIXTURE_CONFIG: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const issuer = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n')) resolve((JSON.parse(line) as { issuer: string }).issuer);
      });
      child.once('exit', (code) =>
        reject(new Error(`openid-provider exited (${code}):\n${chunks.join('')}`)),
      );
    });
    return new OpenIdProvider(child, issuer, () => chunks.join(''));
  }

  /** Creates (or replaces) an account; `id` is its `sub`. */
  async addAccount(id: string, claims: AccountClaims): Promise<void> {
    const response = await fetch(`${this.issuer}/test/accounts/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: JSON.stringify(claims),
    });
    if (response.status !== 204) throw new Error(`account not created: ${response.status}`);
  }

  /** What the provider wrote to stderr (its warnings and errors), for failure messages. */
  logs(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/**
 * A browser at the provider: follows redirects by hand with a cookie jar, signs in as `accountId`
 * through the dev login form, grants consent, and stops at the redirect back to the relying party.
 * Returns that callback URL (with code and state, or error). `abort` cancels at the login form.
 */
export async function signInAtProvider(
  authorizationUrl: string,
  redirectUri: string,
  accountId: string,
  options: { abort?: boolean } = {},
): Promise<string> {
  const jar = new Map<string, string>();
  const request = async (url: string, form?: Record<string, string>) => {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: cookieHeader(jar),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    await response.arrayBuffer();
    const location = response.headers.get('location');
    return location ? new URL(location, url).href : undefined;
  };

  let url = authorizationUrl;
  for (let step = 0; step < 10; step++) {
    if (url.startsWith(redirectUri)) return url;
    const interaction = /\/interaction\/([^/?]+)$/.exec(new URL(url).pathname);
    let next: string | undefined;
    if (!interaction) next = await request(url);
    else if (options.abort) next = await request(`${url}/abort`);
    else {
      // The dev interactions ask for login first, consent second; the form says which.
      const page = await (await fetch(url, { headers: { cookie: cookieHeader(jar) } })).text();
      const prompt = page.includes('name="prompt" value="login"') ? 'login' : 'consent';
      next = await request(
        url,
        prompt === 'login' ? { prompt, login: accountId, password: 'x' } : { prompt },
      );
    }
    if (!next) throw new Error(`the provider stopped at ${url} without redirecting`);
    url = next;
  }
  throw new Error('too many redirects at the provider');
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}
