import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { UserRole } from '../../src/db/index.js';
import { KNOWN_PERMISSIONS, roleHasPermission } from '../../src/domain/kernel/permissions.js';
import { AccessPolicy } from '../../src/gen/tessera/v1/options.js';
import { readAccessPolicies } from '../../src/rpc/access-policy.js';
import { loadTesseraPackageDefinition } from '../../src/rpc/proto-definitions.js';
import { serviceAccountKey, signedInWithRole } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { decodeDetails } from '../helpers/rpc-errors.js';
import { bearer } from '../helpers/server.js';

/** The only RPCs anyone may call without credentials. Adding one here is a deliberate, reviewed act. */
const DOCUMENTED_PUBLIC_RPCS = [
  '/tessera.v1.AuthService/Register',
  '/tessera.v1.AuthService/Login',
  '/tessera.v1.AuthService/RefreshToken',
  '/tessera.v1.AuthService/Logout',
  '/tessera.v1.AuthService/GetJwks',
  '/tessera.v1.AuthService/LoginWithProvider',
  '/tessera.v1.AuthService/IntrospectToken',
  '/tessera.v1.AuthService/VerifyEmail',
  '/tessera.v1.AuthService/RequestPasswordReset',
  '/tessera.v1.AuthService/ResetPassword',
  '/tessera.v1.AuthService/CompleteMfaLogin',
  '/tessera.v1.AuthService/EnrollTotpForChallenge',
];

/**
 * The RPCs that need a recent authentication (AccessPolicy.step_up): they
 * change credentials or destroy data. Removing one is a deliberate, reviewed act.
 */
const DOCUMENTED_STEP_UP_RPCS = [
  '/tessera.v1.AuthService/ChangePassword',
  '/tessera.v1.AuthService/RequestEmailChange',
  '/tessera.v1.AuthService/RotateSigningKey',
  '/tessera.v1.AuthService/DisableTotp',
  '/tessera.v1.AuthService/RegenerateRecoveryCodes',
  '/tessera.v1.IdentityService/CreateServiceAccount',
  '/tessera.v1.ComplianceService/EraseUser',
];

/** MethodOptions field number of `tessera.v1.access_policy` (options.proto). */
const ACCESS_POLICY_FIELD = 51000;

interface DeclaredMethod {
  path: string;
  name: string;
  policy: AccessPolicy | undefined;
}

/** The length-delimited fields of one encoded message, by field number, in order. */
function embedded(bytes: Uint8Array): Map<number, Uint8Array[]> {
  const fields = new Map<number, Uint8Array[]>();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited) {
      reader.skip(wireType);
      continue;
    }
    fields.set(no, [...(fields.get(no) ?? []), reader.bytes()]);
  }
  return fields;
}

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');

/**
 * Every RPC of every service in the compiled descriptor set (`buf build`),
 * with the access policy decoded from the raw MethodOptions bytes: this reads
 * the contract as any client language would, not through the server's own
 * proto loader.
 */
function declaredMethods(): DeclaredMethod[] {
  const set = readFileSync(fileURLToPath(new URL('../../src/gen/tessera.binpb', import.meta.url)));
  const methods: DeclaredMethod[] = [];
  for (const file of embedded(set).get(1) ?? []) {
    const fileFields = embedded(file);
    const pkg = text(fileFields.get(2)?.[0]);
    for (const service of fileFields.get(6) ?? []) {
      const serviceFields = embedded(service);
      const serviceName = text(serviceFields.get(1)?.[0]);
      for (const method of serviceFields.get(2) ?? []) {
        const methodFields = embedded(method);
        const name = text(methodFields.get(1)?.[0]);
        const options = methodFields.get(4)?.[0];
        const raw = options ? embedded(options).get(ACCESS_POLICY_FIELD)?.[0] : undefined;
        methods.push({ path: `/${pkg}.${serviceName}/${name}`, name, policy: raw ? AccessPolicy.decode(raw) : undefined });
      }
    }
  }
  return methods;
}

/** Calls any RPC by path with an empty request (valid for every proto3 message); resolves to the error, if any. */
function callRaw(client: Client, path: string, metadata: Metadata): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      metadata,
      (err) => resolve(err ?? undefined),
    );
  });
}

describe('Access policies of every RPC', () => {
  const methods = declaredMethods();

  it('finds the RPCs of all four services in the descriptor set', () => {
    const services = new Set(methods.map((m) => m.path.split('/')[1]));
    expect([...services]).to.include.members([
      'tessera.v1.AuthService',
      'tessera.v1.ProfileService',
      'tessera.v1.IdentityService',
    ]);
    expect(methods.length).to.be.greaterThan(15);
  });

  it('declares exactly one of public or a permission on every RPC of every service', () => {
    const missing = methods.filter((m) => !m.policy).map((m) => m.path);
    expect(missing, 'RPCs without an access_policy option').to.deep.equal([]);
    const ambiguous = methods.filter((m) => m.policy!.public === (m.policy!.permission !== '')).map((m) => m.path);
    expect(ambiguous, 'RPCs with both or neither of public and permission').to.deep.equal([]);
  });

  it('names only permissions that some role grants', () => {
    const unknown = methods.filter((m) => m.policy?.permission && !KNOWN_PERMISSIONS.has(m.policy.permission));
    expect(unknown.map((m) => `${m.path}: ${m.policy!.permission}`)).to.deep.equal([]);
  });

  it('makes public only the documented RPCs', () => {
    expect(methods.filter((m) => m.policy?.public).map((m) => m.path)).to.have.members(DOCUMENTED_PUBLIC_RPCS);
  });

  it('agrees with the policy table the server enforces', () => {
    const enforced = readAccessPolicies(loadTesseraPackageDefinition());
    const declared = new Map(
      methods.map((m) => [
        m.path,
        {
          public: m.policy!.public,
          permission: m.policy!.permission,
          ...(m.policy!.stepUp ? { stepUp: { recentAuthentication: m.policy!.stepUp.recentAuthentication } } : {}),
        },
      ]),
    );
    expect(new Map(enforced)).to.deep.equal(declared);
  });

  it('declares a step-up on exactly the documented RPCs, each with recent_authentication', () => {
    const declared = methods.filter((m) => m.policy?.stepUp);
    expect(declared.map((m) => m.path)).to.have.members(DOCUMENTED_STEP_UP_RPCS);
    expect(declared.filter((m) => !m.policy!.stepUp!.recentAuthentication).map((m) => m.path)).to.deep.equal([]);
  });

  it('lists every RPC and every permission in the README role/permission matrix', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const section = readme.slice(readme.indexOf('### Roles and permissions'), readme.indexOf('## Audit events'));
    expect(
      methods.map((m) => m.name).filter((name) => !section.includes(name)),
      'RPCs missing from the matrix',
    ).to.deep.equal([]);
    expect(
      [...KNOWN_PERMISSIONS].filter((p) => !section.includes(`\`${p}\``)),
      'permissions missing',
    ).to.deep.equal([]);
  });

  describe('enforced by the running server', () => {
    let client: Client;
    before(() => {
      client = new Client(harness().server.address, credentials.createInsecure());
    });
    after(() => client.close());

    it('refuses every non-public RPC without credentials: UNAUTHENTICATED, MISSING_CREDENTIALS', async () => {
      const wrong: string[] = [];
      for (const m of methods.filter((x) => !x.policy!.public)) {
        const err = await callRaw(client, m.path, new Metadata());
        const reason = err && decodeDetails(err).errorInfo?.reason;
        if (err?.code !== status.UNAUTHENTICATED || reason !== 'MISSING_CREDENTIALS')
          wrong.push(`${m.path}: ${err?.code} ${reason}`);
      }
      expect(wrong).to.deep.equal([]);
    });

    const roles: { role: UserRole; token: () => Promise<string> }[] = [
      { role: 'user', token: async () => (await signedInWithRole('user')).accessToken },
      { role: 'auditor', token: async () => (await signedInWithRole('auditor')).accessToken },
      { role: 'service', token: async () => (await serviceAccountKey()).apiKey },
    ];
    for (const { role, token } of roles) {
      it(`answers PERMISSION_DENIED to the ${role} role on every RPC whose permission the role lacks`, async () => {
        const metadata = bearer(await token());
        const denied = methods.filter((m) => !m.policy!.public && !roleHasPermission(role, m.policy!.permission));
        expect(denied, 'precondition: some RPCs are out of reach').to.not.be.empty;
        const wrong: string[] = [];
        for (const m of denied) {
          const err = await callRaw(client, m.path, metadata);
          const reason = err && decodeDetails(err).errorInfo?.reason;
          if (err?.code !== status.PERMISSION_DENIED || reason !== 'PERMISSION_DENIED')
            wrong.push(`${m.path}: ${err?.code} ${reason}`);
        }
        expect(wrong).to.deep.equal([]);
      });
    }

    describe('step-up', () => {
      afterEach(() => harness().server.clock.reset());

      it('refuses every step-up RPC to a token older than STEP_UP_MAX_AGE_SECONDS: UNAUTHENTICATED, REAUTHENTICATION_REQUIRED', async () => {
        // An administrator holds every permission, so each call reaches the step-up check.
        const admin = await signedInWithRole('admin');
        harness().server.clock.advance(601);
        const wrong: string[] = [];
        for (const m of methods.filter((x) => x.policy?.stepUp)) {
          const err = await callRaw(client, m.path, bearer(admin.accessToken));
          const reason = err && decodeDetails(err).errorInfo?.reason;
          if (err?.code !== status.UNAUTHENTICATED || reason !== 'REAUTHENTICATION_REQUIRED')
            wrong.push(`${m.path}: ${err?.code} ${reason}`);
        }
        expect(wrong).to.deep.equal([]);
        // Still a valid token: only the step-up refused it.
        await callRaw(client, '/tessera.v1.ProfileService/GetProfile', bearer(admin.accessToken)).then((err) =>
          expect(err).to.equal(undefined),
        );
      });

      it('lets the same step-up RPCs past the check with a fresh token', async () => {
        const admin = await signedInWithRole('admin');
        // Those whose empty request is refused by the handler, so nothing changes.
        const harmless = DOCUMENTED_STEP_UP_RPCS.filter((path) => !path.endsWith('/RotateSigningKey'));
        for (const path of harmless) {
          const err = await callRaw(client, path, bearer(admin.accessToken));
          expect(err && decodeDetails(err).errorInfo?.reason, path).to.not.equal('REAUTHENTICATION_REQUIRED');
          expect(err?.code, path).to.equal(status.INVALID_ARGUMENT);
        }
      });
    });

    it('lets no role but admin write users or manage service accounts; the auditor writes nothing of others', () => {
      for (const role of ['user', 'auditor'] as const) {
        expect(roleHasPermission(role, 'users:write'), role).to.equal(false);
        expect(roleHasPermission(role, 'roles:assign'), role).to.equal(false);
        expect(roleHasPermission(role, 'service_accounts:manage'), role).to.equal(false);
      }
      expect(roleHasPermission('service', 'roles:assign')).to.equal(false);
      expect(roleHasPermission('auditor', 'users:read')).to.equal(true);
    });
  });
});
