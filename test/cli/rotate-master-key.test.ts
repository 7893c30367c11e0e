import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { masterKeyId } from '../../src/crypto/secret-box.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { ListAuditEventsRequest } from '../../src/gen/tessera/v1/compliance_service.js';
import { complianceClient } from '../helpers/audit.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';
import type { TestDatabase } from '../helpers/database.js';
import { defaultKeyDatabaseUrl } from '../../src/db/index.js';
import { adminToken, signedInUser, sql, sqlAt } from '../helpers/fixtures.js';
import { runTessera } from '../helpers/process.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

const key = () => randomBytes(32).toString('base64');
const idOf = (base64: string) => masterKeyId(Buffer.from(base64, 'base64'));

/** The master key ids found in every column the master key protects. */
async function masterKeyIdsInUse(db: TestDatabase): Promise<string[]> {
  const dataKeys = await sqlAt<{ id: string }>(
    defaultKeyDatabaseUrl(db.url),
    `select distinct split_part(wrapped_key, '.', 2) as id from data_keys union select master_key_id from data_keys`,
  );
  const rows = await sql<{ id: string }>(
    `select split_part(private_jwk_ciphertext, '.', 2) as id from signing_keys
     union select split_part(successor_ciphertext, '.', 2) from sessions where successor_ciphertext is not null
     union select split_part(payload_ciphertext, '.', 2) from email_outbox where payload_ciphertext is not null`,
    [],
    db,
  );
  return [...new Set([...dataKeys, ...rows].map((r) => r.id))].sort();
}

describe('tessera rotate-master-key', function () {
  this.timeout(60_000);
  const sandbox = useCliSandbox();
  const pepper = key();
  const [oldKey, newKey] = [key(), key()];
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let user: Awaited<ReturnType<typeof signedInUser>>;

  before(async () => {
    ({ db, env } = await sandbox.fresh({ TESSERA_PEPPER: pepper }));
    const first = await startTestServer(db, { TESSERA_PEPPER: pepper, TESSERA_MASTER_KEY: oldKey });
    try {
      user = await signedInUser({ server: first, fullName: 'Rosalind Franklin' });
      await call(
        first.profile,
        'updateProfile',
        {
          profile: Profile.fromPartial({ phoneNumber: '+442071234567', location: 'London' }),
          updateMask: ['phone_number', 'location'],
        },
        bearer(user.accessToken),
      );
      // A refresh leaves an encrypted successor on the session.
      user.refreshToken = (await call(first.auth, 'refreshToken', { refreshToken: user.refreshToken })).tokens!.refreshToken;
    } finally {
      await first.close();
    }
  });

  it('re-seals everything under the new key, after which the old key can be dropped and everything still reads', async () => {
    expect(await masterKeyIdsInUse(db)).to.deep.equal([idOf(oldKey)]);

    const result = await runTessera(['rotate-master-key', '--batch-size', '2'], {
      ...env,
      TESSERA_MASTER_KEY: newKey,
      TESSERA_PREVIOUS_MASTER_KEYS: oldKey,
    });

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/^rotate-master-key: 100% \(\d+ of \d+\)$/m);
    expect(result.stdout).to.match(/^user_keys [1-9]\d*$/m);
    expect(result.stdout).to.match(/^signing_keys [1-9]\d*$/m);
    expect(result.stdout).to.match(/^sessions 1$/m);
    expect(await masterKeyIdsInUse(db)).to.deep.equal([idOf(newKey)]);

    // The old key is gone from the configuration.
    const server: TestServer = await startTestServer(db, { TESSERA_PEPPER: pepper, TESSERA_MASTER_KEY: newKey });
    try {
      const { profile } = await call(server.profile, 'getProfile', { userId: '' }, bearer(user.accessToken));
      expect(profile).to.include({ fullName: 'Rosalind Franklin', phoneNumber: '+442071234567', location: 'London' });
      const again = await call(server.auth, 'login', { email: user.email, password: user.password });
      expect(again.tokens!.accessToken).to.be.a('string');
      const client = complianceClient(server.address);
      try {
        const { events } = await call(
          client,
          'listAuditEvents',
          ListAuditEventsRequest.fromPartial({ filter: { subjectUserId: user.user!.id } }),
          bearer(await adminToken(server)),
        );
        expect(events.length).to.be.greaterThan(2);
        expect(events.every((e) => e.ip === '127.0.0.1')).to.equal(true);
      } finally {
        client.close();
      }
    } finally {
      await server.close();
    }
  });

  it('finds nothing left to do when run again (an interrupted run is simply repeated)', async () => {
    const result = await runTessera(['rotate-master-key'], {
      ...env,
      TESSERA_MASTER_KEY: newKey,
      TESSERA_PREVIOUS_MASTER_KEYS: oldKey,
    });

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^user_keys 0$/m);
    expect(result.stdout).to.match(/^signing_keys 0$/m);
    expect(result.stdout).to.match(/^sessions 0$/m);
    expect(result.stdout).to.match(/^email_outbox 0$/m);
  });

  it('refuses a batch size out of range as a usage error', async () => {
    const result = await runTessera(['rotate-master-key', '--batch-size', '0'], env);
    expect(result.code).to.equal(2);
  });
});
