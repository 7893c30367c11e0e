import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { expect } from 'chai';
import { readAccessPolicies } from '../../src/rpc/access-policy.js';
import { loadTesseraPackageDefinition, TESSERA_SERVICES } from '../../src/rpc/proto-definitions.js';

type Service = Record<string, MethodDefinition<unknown, unknown>>;

/** A copy of the real definition with one method's options replaced. */
function withOptions(path: string, options: Record<string, unknown>): PackageDefinition {
  const definition = loadTesseraPackageDefinition();
  const copy: PackageDefinition = { ...definition };
  for (const name of TESSERA_SERVICES) {
    const service = definition[name] as Service;
    copy[name] = Object.fromEntries(
      Object.entries(service).map(([key, method]) => [key, method.path === path ? { ...method, options } : method]),
    ) as never;
  }
  return copy;
}

describe('readAccessPolicies', () => {
  const definition = loadTesseraPackageDefinition();
  const policies = readAccessPolicies(definition);

  it('returns a policy for every method of every tessera.v1 service, and nothing else', () => {
    const paths = TESSERA_SERVICES.flatMap((name) => Object.values(definition[name] as Service).map((m) => m.path));
    expect(paths).to.not.be.empty;
    expect([...policies.keys()]).to.have.members(paths);
  });

  for (const method of ['Register', 'Login', 'RefreshToken', 'Logout', 'GetJwks']) {
    it(`makes AuthService.${method} public`, () => {
      expect(policies.get(`/tessera.v1.AuthService/${method}`)).to.deep.equal({ public: true, permission: '' });
    });
  }

  it('requires profile:read for ProfileService.GetProfile', () => {
    expect(policies.get('/tessera.v1.ProfileService/GetProfile')).to.deep.equal({ public: false, permission: 'profile:read' });
  });

  it('requires profile:write for ProfileService.UpdateProfile', () => {
    expect(policies.get('/tessera.v1.ProfileService/UpdateProfile')).to.deep.equal({
      public: false,
      permission: 'profile:write',
    });
  });

  it('refuses a method without an access_policy option, naming it', () => {
    expect(() => readAccessPolicies(withOptions('/tessera.v1.ProfileService/GetProfile', {}))).to.throw(
      /\/tessera\.v1\.ProfileService\/GetProfile: no access_policy option/,
    );
  });

  it('refuses a policy that is both public and needs a permission', () => {
    const both = { '(tessera.v1.access_policy)': { public: true, permission: 'profile:read' } };
    expect(() => readAccessPolicies(withOptions('/tessera.v1.AuthService/Login', both))).to.throw(
      /exactly one of public or permission/,
    );
  });

  it('refuses a permission that no role grants', () => {
    const unknown = { '(tessera.v1.access_policy)': { permission: 'profile:teleport' } };
    expect(() => readAccessPolicies(withOptions('/tessera.v1.ProfileService/GetProfile', unknown))).to.throw(
      /granted to no role/,
    );
  });

  it('reads a step-up declaration next to the permission', () => {
    expect(policies.get('/tessera.v1.AuthService/ChangePassword')).to.deep.equal({
      public: false,
      permission: 'account:own',
      stepUp: { recentAuthentication: true },
    });
  });

  it('refuses a step-up on a public RPC: nobody there to re-authenticate', () => {
    const publicStepUp = { '(tessera.v1.access_policy)': { public: true, step_up: { recent_authentication: true } } };
    expect(() => readAccessPolicies(withOptions('/tessera.v1.AuthService/Login', publicStepUp))).to.throw(
      /\/tessera\.v1\.AuthService\/Login: step_up needs a permission and recent_authentication/,
    );
  });

  it('refuses a step-up that asks for nothing', () => {
    const empty = { '(tessera.v1.access_policy)': { permission: 'profile:read', step_up: {} } };
    expect(() => readAccessPolicies(withOptions('/tessera.v1.ProfileService/GetProfile', empty))).to.throw(
      /step_up needs a permission and recent_authentication/,
    );
  });
});
