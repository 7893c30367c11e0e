import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = () => ({
  TESSERA_PEPPER: randomBytes(32).toString('base64'),
  TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
});

const provider = {
  name: 'google',
  issuer: 'https://accounts.google.com',
  jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
  audience: 'client-1',
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ ...base(), ...env });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: identity administration settings', () => {
  it('defaults to no OIDC provider, a 30 s JWKS cooldown and a 30-day undelete window', () => {
    const config = loadConfig(base());
    expect(config.oidc).to.deep.equal({ providers: [], jwksCooldownMs: 30_000 });
    expect(config.users).to.deep.equal({ deleteRetentionDays: 30, mfaRequiredRoles: [] });
  });

  it('reads MFA_REQUIRED_ROLES as a comma list of roles that sign in, and refuses others', () => {
    expect(loadConfig({ ...base(), MFA_REQUIRED_ROLES: ' admin, auditor ,' }).users.mfaRequiredRoles).to.deep.equal([
      'admin',
      'auditor',
    ]);
    expect(refusal({ MFA_REQUIRED_ROLES: 'admin,root' })).to.match(/MFA_REQUIRED_ROLES/);
    expect(refusal({ MFA_REQUIRED_ROLES: 'service' })).to.match(/MFA_REQUIRED_ROLES/);
  });

  it('reads OIDC_PROVIDERS, turning a single audience into a list', () => {
    const config = loadConfig({
      ...base(),
      OIDC_PROVIDERS: JSON.stringify([
        provider,
        { ...provider, name: 'local', jwks_uri: 'http://127.0.0.1:8080/jwks', audience: ['a', 'b'] },
      ]),
      OIDC_JWKS_COOLDOWN_SECONDS: '0',
      USER_DELETE_RETENTION_DAYS: '7',
    });
    expect(config.oidc.providers).to.deep.equal([
      { name: 'google', issuer: provider.issuer, jwksUri: provider.jwks_uri, audience: ['client-1'] },
      { name: 'local', issuer: provider.issuer, jwksUri: 'http://127.0.0.1:8080/jwks', audience: ['a', 'b'] },
    ]);
    expect(config.oidc.jwksCooldownMs).to.equal(0);
    expect(config.users.deleteRetentionDays).to.equal(7);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['not JSON', '[{', /OIDC_PROVIDERS: must be a JSON array/],
    ['not an array', { name: 'x' }, /OIDC_PROVIDERS/],
    ['a missing audience', [{ ...provider, audience: undefined }], /OIDC_PROVIDERS\.0\.audience/],
    ['an upper-case name', [{ ...provider, name: 'Google' }], /OIDC_PROVIDERS\.0\.name/],
    [
      'plain http to another host',
      [{ ...provider, jwks_uri: 'http://keys.example.com/jwks' }],
      /https URL \(http only on the loopback/,
    ],
    ['duplicate names', [provider, provider], /provider names must be unique/],
    ['an unknown member', [{ ...provider, client_secret: 's' }], /OIDC_PROVIDERS/],
  ];
  for (const [what, value, message] of invalid) {
    it(`refuses OIDC_PROVIDERS with ${what}, naming the variable`, () => {
      expect(refusal({ OIDC_PROVIDERS: typeof value === 'string' ? value : JSON.stringify(value) })).to.match(message);
    });
  }

  it('refuses a retention of 0 days', () => {
    expect(refusal({ USER_DELETE_RETENTION_DAYS: '0' })).to.match(/USER_DELETE_RETENTION_DAYS/);
  });
});
