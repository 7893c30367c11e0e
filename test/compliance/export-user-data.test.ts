import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ExportUserDataResponse } from '../../src/gen/tessera/v1/compliance_service.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { complianceClient } from '../helpers/audit.js';
import { adminToken, signedInUser, sql } from '../helpers/fixtures.js';
import { decodeJwt } from 'jose';
import { harness } from '../helpers/harness.js';
import { userWithTotp } from '../helpers/mfa.js';
import { bearer, call } from '../helpers/server.js';

/** Every part of an ExportUserData stream, or the error that ended it. */
function exportOf(userId: string, md: Metadata): Promise<{ parts: ExportUserDataResponse['part'][]; error?: ServiceError }> {
  const client = complianceClient();
  const parts: ExportUserDataResponse['part'][] = [];
  return new Promise((resolve) => {
    const stream = client.exportUserData({ userId }, md);
    stream.on('data', (msg: ExportUserDataResponse) => parts.push(msg.part));
    stream.on('error', (error: ServiceError) => {
      client.close();
      resolve({ parts, error });
    });
    stream.on('end', () => {
      client.close();
      resolve({ parts });
    });
  });
}

describe('ComplianceService.ExportUserData', function () {
  this.timeout(30_000);

  it("streams the caller's account, decrypted profile, second factors, sessions and audit events, in that order", async () => {
    const user = await signedInUser({ fullName: 'Export Me' });
    await call(
      harness().server.profile,
      'updateProfile',
      {
        profile: Profile.fromPartial({
          phoneNumber: '+351912345000',
          avatarUrl: 'https://cdn.example.com/export-me.png',
          preferences: { theme: 'dark' },
        }),
        updateMask: ['phone_number', 'avatar_url', 'preferences'],
      },
      bearer(user.accessToken),
    );

    const { parts, error } = await exportOf('', bearer(user.accessToken));

    expect(error).to.equal(undefined);
    const kinds = parts.map((p) => p!.$case);
    expect(kinds.slice(0, 4)).to.deep.equal(['account', 'profile', 'secondFactors', 'session']);
    expect(kinds.slice(4).every((k) => k === 'auditEvent')).to.equal(true);
    const profile = parts[1] as { $case: 'profile'; value: Profile };
    expect(profile.value).to.deep.include({
      fullName: 'Export Me',
      phoneNumber: '+351912345000',
      avatarUrl: 'https://cdn.example.com/export-me.png',
      preferences: { theme: 'dark' },
    });
    expect(parts[2]!.value, 'none enrolled: one part all the same').to.deep.equal({ totp: undefined, unusedRecoveryCodes: 0 });
    const session = parts[3] as Extract<ExportUserDataResponse['part'], { $case: 'session' }>;
    expect(session.value).to.include({ ipAddress: '127.0.0.1', current: true });
    const events = parts.slice(4).map((p) => (p as Extract<ExportUserDataResponse['part'], { $case: 'auditEvent' }>).value);
    expect(events.map((e) => e.typeName)).to.include.members(['user.registered', 'login.succeeded', 'profile.updated']);
    expect(events.every((e) => e.subjectUserId === user.user!.id && e.ip === '127.0.0.1')).to.equal(true);
  });

  describe('second factors', () => {
    const secondFactorsOf = (parts: ExportUserDataResponse['part'][]) => {
      const found = parts.flatMap((p) => (p?.$case === 'secondFactors' ? [p.value] : []));
      expect(found, 'exactly one second-factors part').to.have.length(1);
      return found[0]!;
    };

    it('tells an enrolment not confirmed yet, with its time, and not its secret', async () => {
      const user = await signedInUser();
      const enrolment = await call(harness().server.auth, 'enrollTotp', {}, bearer(user.accessToken));

      const { parts, error } = await exportOf('', bearer(user.accessToken));

      expect(error).to.equal(undefined);
      const factors = secondFactorsOf(parts);
      expect(factors.unusedRecoveryCodes).to.equal(0);
      expect(factors.totp).to.include({ confirmed: false, confirmedAt: undefined });
      expect(factors.totp!.enrolledAt).to.be.instanceOf(Date);
      expect(JSON.stringify(parts)).to.not.include(enrolment.secret);
    });

    it('tells a confirmed authenticator with its times and the unused recovery codes, never a secret, code or hash', async () => {
      const user = await userWithTotp();
      // Sign in once with a recovery code: one fewer remains.
      const login = await call(harness().server.auth, 'login', { email: user.email, password: user.password });
      await call(harness().server.auth, 'completeMfaLogin', {
        challengeId: login.mfaChallenge!.challengeId,
        code: '',
        recoveryCode: user.recoveryCodes[0]!,
      });
      const [stored] = await sql<{ created_at: Date; confirmed_at: Date; secret_ciphertext: string }>(
        'select created_at, confirmed_at, secret_ciphertext from totp_factors where user_id = $1',
        [user.user!.id],
      );
      const hashes = await sql<{ code_hash: string }>('select code_hash from recovery_codes where user_id = $1', [user.user!.id]);

      const mine = await exportOf('', bearer(user.accessToken));
      const byAdmin = await exportOf(user.user!.id, bearer(await adminToken()));

      for (const { parts, error } of [mine, byAdmin]) {
        expect(error).to.equal(undefined);
        expect(secondFactorsOf(parts)).to.deep.equal({
          totp: { enrolledAt: stored!.created_at, confirmed: true, confirmedAt: stored!.confirmed_at },
          unusedRecoveryCodes: user.recoveryCodes.length - 1,
        });
        const everything = JSON.stringify(parts);
        const secrets = [user.secret, stored!.secret_ciphertext, ...user.recoveryCodes, ...hashes.map((h) => h.code_hash)];
        for (const secret of secrets) expect(everything).to.not.include(secret);
        for (const code of user.recoveryCodes) expect(everything).to.not.include(code.replace(/-/g, ''));
      }
    });
  });

  it("refuses one user exporting another's data, and lets an administrator", async () => {
    const [attacker, victim] = [await signedInUser(), await signedInUser()];

    const denied = await exportOf(victim.user!.id, bearer(attacker.accessToken));
    expect(denied.error?.code).to.equal(status.PERMISSION_DENIED);
    expect(denied.parts).to.deep.equal([]);

    const allowed = await exportOf(victim.user!.id, bearer(await adminToken()));
    expect(allowed.error).to.equal(undefined);
    expect(allowed.parts[0]!.$case).to.equal('account');
  });

  it('records user.exported with who exported whose data and nothing personal; a refused export records none', async () => {
    const user = await signedInUser({ fullName: 'Exported Person' });
    const other = await signedInUser();
    const admin = await adminToken();
    const exportsOf = () =>
      sql<{ actor_type: string; actor_id: string | null; ip: string | null; user_agent: string | null; metadata: object }>(
        "select actor_type, actor_id, ip, user_agent, metadata from audit_events where type = 'user.exported' and subject_user_id = $1 order by id",
        [user.user!.id],
      );

    expect((await exportOf(user.user!.id, bearer(other.accessToken))).error?.code).to.equal(status.PERMISSION_DENIED);
    expect(await exportsOf(), 'refused: no event').to.deep.equal([]);

    const own = await exportOf('', bearer(user.accessToken));
    const events = own.parts.flatMap((p) => (p?.$case === 'auditEvent' ? [p.value] : []));
    expect(
      events.map((e) => e.typeName),
      'the export lists its own event',
    ).to.include('user.exported');
    expect((await exportOf(user.user!.id, bearer(admin))).error).to.equal(undefined);

    const rows = await exportsOf();
    expect(rows.map((r) => [r.actor_type, r.actor_id])).to.deep.equal([
      ['user', user.user!.id],
      ['user', String(decodeJwt(admin).sub)],
    ]);
    for (const row of rows) {
      expect(row.metadata).to.deep.equal({});
      // The caller's address and agent are kept sealed under the subject's data key, as in every event about them.
      expect(row.ip).to.match(/^v1\./);
      expect(JSON.stringify(row)).to.not.include(user.email).and.not.include('Exported Person');
    }
  });
});
