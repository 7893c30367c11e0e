import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { masterKeyBoxes } from '../../src/crypto/master-key-boxes.js';
import { connectOrm, type Orm } from '../../src/db/index.js';
import { UserDataKeys } from '../../src/domain/kernel/user-data-keys.js';
import { userEmailBinding } from '../../src/domain/kernel/user-email.js';
import { systemClock } from '../../src/clock.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { complianceClient } from '../helpers/audit.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { adminToken, DEFAULT_PASSWORD, serviceAccountKey, sql, uniqueEmail } from '../helpers/fixtures.js';
import { bearer, call, startTestServer } from '../helpers/server.js';

const run = promisify(execFile);

const PERSON = {
  name: 'Ottoline Backupstone',
  phone: '+351912000222',
  location: 'Dumpsville',
  ip: '203.0.113.77',
  userAgent: 'BackupAgent/3.2',
};

/** The erased user's address and full name in the restored dump, opened with `masterKeys` (first seals, all open). */
async function openWith(orm: Orm, masterKeys: Buffer[], userId: string): Promise<{ email: string; fullName: string }> {
  const keys = new UserDataKeys(masterKeyBoxes(masterKeys[0]!, masterKeys.slice(1)).userKeys, systemClock);
  const em = orm.em.fork();
  const cipher = (await keys.forReading(em, [userId])).get(userId);
  if (!cipher) throw new Error('no data key in the dump');
  const [row] = await em.execute<{ email_ciphertext: string; full_name: string }[]>(
    'select u.email_ciphertext, p.full_name from users u join user_profiles p on p.user_id = u.id where u.id = ?',
    [userId],
  );
  return {
    email: cipher.open(row!.email_ciphertext, userEmailBinding(userId)),
    fullName: cipher.open(row!.full_name, `user_profiles.full_name:${userId}`),
  };
}

describe('A pg_dump taken before an erasure, restored after it', function () {
  this.timeout(180_000);
  const databases: TestDatabase[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'tessera-dump-'));
  after(async () => {
    rmSync(folder, { recursive: true, force: true });
    await Promise.all(databases.map((db) => db.drop()));
  });

  it('holds no personal field in clear, and nothing of the erased user opens once the master key of that time is gone', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const [oldMasterKey, newMasterKey] = [randomBytes(32), randomBytes(32)];
    const server = await startTestServer(db, { TESSERA_MASTER_KEY: oldMasterKey.toString('base64') });
    const email = uniqueEmail('backup');
    let userId: string;
    const dump = join(folder, 'before-erasure.dump');
    try {
      // A person with an address, name, phone, place, and a session from a known client address and agent.
      const service = await serviceAccountKey(Role.ROLE_SERVICE, server);
      const md = new Metadata();
      md.set('authorization', `Bearer ${service.apiKey}`);
      md.set('x-forwarded-for', PERSON.ip);
      md.set('x-forwarded-user-agent', PERSON.userAgent);
      ({ id: userId } = (
        await call(server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: PERSON.name }, md)
      ).user!);
      const login = await call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }, md);
      await call(
        server.profile,
        'updateProfile',
        {
          profile: Profile.fromPartial({ phoneNumber: PERSON.phone, location: PERSON.location }),
          updateMask: ['phone_number', 'location'],
        },
        bearer(login.tokens!.accessToken),
      );

      await run('pg_dump', ['--format=custom', `--file=${dump}`, db.url]);

      const client = complianceClient(server.address);
      await call(
        client,
        'eraseUser',
        { userId, reason: 'gdpr_art17_request', currentPassword: '' },
        bearer(await adminToken(server)),
      );
      client.close();
    } finally {
      await server.close();
    }

    const restored = await createTestDatabase();
    databases.push(restored);
    await run('pg_restore', ['--no-owner', `--dbname=${restored.url}`, dump]);
    expect(await sql('select 1 from users where id = $1', [userId], restored), 'the dump predates the erasure').to.have.length(1);

    // Nothing personal is in clear in the dump: every field is sealed under the user's data key.
    for (const value of [email, PERSON.name, PERSON.phone.slice(4), PERSON.location, PERSON.ip, PERSON.userAgent]) {
      expect(await findEverywhere(value, restored), value).to.deep.equal([]);
    }
    // What the dump still says without a data key: the blind index, which confirms a guessed
    // address to whoever also holds TESSERA_EMAIL_INDEX_KEY (and to no one else).
    expect(await findEverywhere(emailIndexOf(email), restored)).to.deep.equal(['users.email_index']);

    const orm = await connectOrm(restored.url);
    try {
      // The limit of crypto-shredding, stated in the README: the dump holds the user's data key
      // wrapped by the master key of that time, so while that key exists, the dump opens.
      expect(await openWith(orm, [oldMasterKey], userId)).to.deep.equal({ email, fullName: PERSON.name });
      // After the documented rotation (rotate-master-key, then the old key dropped everywhere),
      // the keys the service holds open nothing of the erased user in the old dump.
      await openWith(orm, [newMasterKey], userId).then(
        () => expect.fail('the old dump opened without the old master key'),
        (err: Error) => expect(err.message).to.equal('unsupported ciphertext'),
      );
    } finally {
      await orm.close();
    }
  });
});
