import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { harness } from './harness.js';
import { freePort } from './process.js';
import { startTestServer, type TestServer } from './server.js';

/** A signing key of the fake provider. */
interface ProviderKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * A local OpenID Connect provider for tests: RS256 keys made with jose, the
 * JWKS served over HTTP on 127.0.0.1, ID tokens signed on demand. Counts the
 * JWKS fetches so tests can see the cache at work.
 */
export class TestOidcProvider {
  jwksFetches = 0;
  private keys: ProviderKey[] = [];

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    readonly jwksUri: string,
    readonly audience: string,
  ) {}

  static async start(options: { audience?: string } = {}): Promise<TestOidcProvider> {
    // The request handler needs the provider, which needs the listening server's address.
    const started: { provider?: TestOidcProvider } = {};
    const server = createServer((req, res) => {
      const provider = started.provider;
      if (req.url !== '/jwks.json' || !provider) {
        res.writeHead(404).end();
        return;
      }
      provider.jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: provider.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const provider = new TestOidcProvider(
      server,
      base,
      `${base}/jwks.json`,
      options.audience ?? `client-${randomBytes(4).toString('hex')}`,
    );
    started.provider = provider;
    await provider.rotateKey();
    return provider;
  }

  /** The OIDC_PROVIDERS entry for this provider under `name`. */
  config(name: string): { name: string; issuer: string; jwks_uri: string; audience: string } {
    return { name, issuer: this.issuer, jwks_uri: this.jwksUri, audience: this.audience };
  }

  /** Publishes a new signing key (kept beside the old ones) and signs with it from now on. */
  async rotateKey(): Promise<void> {
    this.keys.push(await makeKey());
  }

  /**
   * Signs an ID token for `sub`: issuer, audience, iat and a one-hour expiry
   * by default; `claims` and `options` override any of it.
   */
  async idToken(
    sub: string,
    claims: JWTPayload = {},
    options: { key?: ProviderKey; now?: Date; expiresInSeconds?: number } = {},
  ): Promise<string> {
    const key = options.key ?? this.keys[this.keys.length - 1];
    const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
    return new SignJWT({
      iss: this.issuer,
      aud: this.audience,
      sub,
      iat,
      exp: iat + (options.expiresInSeconds ?? 3600),
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/** A key that no provider publishes, with the kid of a published one if given: for forged tokens. */
export async function makeKey(kid = `k-${randomBytes(6).toString('hex')}`): Promise<ProviderKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A Tessera server on the shared database that trusts two local providers ("test-idp", "other-idp") and one that is down. */
export interface OidcTestSetup {
  server: TestServer;
  provider: TestOidcProvider;
  other: TestOidcProvider;
  close(): Promise<void>;
}

export async function startOidcTestSetup(): Promise<OidcTestSetup> {
  const provider = await TestOidcProvider.start();
  const other = await TestOidcProvider.start();
  const down = `http://127.0.0.1:${await freePort()}/jwks.json`;
  const shared = harness().server.env;
  const server = await startTestServer(harness().db, {
    TESSERA_PEPPER: shared.TESSERA_PEPPER,
    TESSERA_MASTER_KEY: shared.TESSERA_MASTER_KEY,
    OIDC_PROVIDERS: JSON.stringify([
      provider.config('test-idp'),
      other.config('other-idp'),
      { name: 'down-idp', issuer: 'https://down.example', jwks_uri: down, audience: 'tessera' },
    ]),
    // Tests rotate keys right after a fetch; production keeps the 30 s cooldown.
    OIDC_JWKS_COOLDOWN_SECONDS: '0',
  });
  return {
    server,
    provider,
    other,
    close: async () => {
      await server.close();
      await provider.close();
      await other.close();
    },
  };
}
