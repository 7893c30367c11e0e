import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { masterKeyBoxes } from '../../src/crypto/master-key-boxes.js';
import { connectOrm, defaultKeyDatabaseUrl, PgKeyStore, type Orm } from '../../src/db/index.js';
import { openField, UserDataKeys } from '../../src/domain/kernel/user-data-keys.js';
import { userEmailBinding } from '../../src/domain/kernel/user-email.js';
import { providerSubjectBinding } from '../../src/domain/auth/provider-identity.js';
import { systemClock } from '../../src/clock.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { Role } from '../../src/gen/tessera/v1/user.js';
import { complianceClient } from '../helpers/audit.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { emailIndexOf } from '../helpers/email-index.js';
import { adminToken, DEFAULT_PASSWORD, keySql, serviceAccountKey, sql, uniqueEmail } from '../helpers/fixtures.js';
import { TestOidcProvider } from '../helpers/oidc-provider.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);

const PERSON = {
  name: 'Ottoline Backupstone',
  phone: '+351912000222',
  location: 'Dumpsville',
  ip: '203.0.113.77',
  userAgent: 'BackupAgent/3.2',
  avatarUrl: 'https://avatars.backupstone.example/ottoline.png',
  preferences: { favouriteDump: 'custom-format-ottoline' },
};

/** Every sealed field of `userId` in a (restored) main database, and what opens of it with `keys`. */
async function openedFields(orm: Orm, keys: UserDataKeys, userId: string): Promise<{ sealed: number; opened: string[] }> {
  const em = orm.em.fork();
  const cipher = (await keys.forReading(em, [userId])).get(userId);
  const sealed: { value: string; binding: string }[] = [];
  const [user] = await em.execute<{ email_ciphertext: string }[]>('select email_ciphertext from users where id = ?', [userId]);
  sealed.push({ value: user!.email_ciphertext, binding: userEmailBinding(userId) });
  const [profile] = await em.execute<
    { full_name: string; location: string; phone_number_ciphertext: string; avatar_url: string; preferences: string }[]
  >('select full_name, location, phone_number_ciphertext, avatar_url, preferences from user_profiles where user_id = ?', [
    userId,
  ]);
  sealed.push(
    { value: profile!.full_name, binding: `user_profiles.full_name:${userId}` },
    { value: profile!.location, binding: `user_profiles.location:${userId}` },
    { value: profile!.phone_number_ciphertext, binding: `user_profiles.phone_number_ciphertext:${userId}` },
    { value: profile!.avatar_url, binding: `user_profiles.avatar_url:${userId}` },
    { value: profile!.preferences, binding: `user_profiles.preferences:${userId}` },
  );
  for (const s of await em.execute<{ id: string; ip: string; user_agent: string }[]>(
    'select id, ip, user_agent from sessions where user_id = ?',
    [userId],
  )) {
    sealed.push({ value: s.ip, binding: `sessions.ip:${s.id}` }, { value: s.user_agent, binding: `sessions.user_agent:${s.id}` });
  }
  const present = sealed.filter((s) => s.value);
  return { sealed: present.length, opened: present.map((s) => openField(cipher, s.value, s.binding)).filter(Boolean) };
}

/** Registers a person with a full profile and a session from a known client address and agent. */
async function personWithEverything(server: TestServer, email: string): Promise<string> {
  const service = await serviceAccountKey(Role.ROLE_SERVICE, server);
  const md = new Metadata();
  md.set('authorization', `Bearer ${service.apiKey}`);
  md.set('x-forwarded-for', PERSON.ip);
  md.set('x-forwarded-user-agent', PERSON.userAgent);
  const { id } = (await call(server.auth, 'register', { email, password: DEFAULT_PASSWORD, fullName: PERSON.name }, md)).user!;
  const login = await call(server.auth, 'login', { email, password: DEFAULT_PASSWORD }, md);
  await call(
    server.profile,
    'updateProfile',
    {
      profile: Profile.fromPartial({
        phoneNumber: PERSON.phone,
        location: PERSON.location,
        avatarUrl: PERSON.avatarUrl,
        preferences: PERSON.preferences,
      }),
      updateMask: ['phone_number', 'location', 'avatar_url', 'preferences'],
    },
    bearer(login.tokens!.accessToken),
  );
  return id;
}

/** Links a provider account with `subject` to the person (linking needs a verified address). */
async function linkProvider(server: TestServer, db: TestDatabase, idp: TestOidcProvider, email: string, subject: string) {
  await sql('update users set email_verified_at = now() where email_index = $1', [emailIndexOf(email)], db);
  const login = await call(server.auth, 'login', { email, password: DEFAULT_PASSWORD });
  const idToken = await idp.idToken(subject);
  await call(server.identity, 'linkSocialLogin', { provider: 'backup-idp', idToken }, bearer(login.tokens!.accessToken));
}

describe('A pg_dump of the main database taken before an erasure, restored after it', function () {
  this.timeout(180_000);
  const databases: TestDatabase[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'tessera-dump-'));
  after(async () => {
    rmSync(folder, { recursive: true, force: true });
    await Promise.all(databases.map((db) => db.drop()));
  });

  it("opens no personal field of the erased user with the service's own keys, while a kept user's still open", async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const masterKey = randomBytes(32);
    const idp = await TestOidcProvider.start();
    const server = await startTestServer(db, {
      TESSERA_MASTER_KEY: masterKey.toString('base64'),
      OIDC_PROVIDERS: JSON.stringify([idp.config('backup-idp')]),
    });
    const subject = `backup-subject-${randomBytes(6).toString('hex')}`;
    const [erasedEmail, keptEmail] = [uniqueEmail('backup-erased'), uniqueEmail('backup-kept')];
    const dump = join(folder, 'before-erasure.dump');
    let erasedId: string;
    let keptId: string;
    let wrappedKeys: string[];
    try {
      erasedId = await personWithEverything(server, erasedEmail);
      await linkProvider(server, db, idp, erasedEmail, subject);
      keptId = await personWithEverything(server, keptEmail);
      wrappedKeys = (
        await keySql<{ wrapped_key: string }>(
          'select wrapped_key from data_keys where user_id = any($1)',
          [[erasedId, keptId]],
          server,
        )
      ).map((r) => r.wrapped_key);
      expect(wrappedKeys).to.have.length(2);

      await run('pg_dump', ['--format=custom', `--file=${dump}`, db.url]);

      const client = complianceClient(server.address);
      const { receipt } = await call(
        client,
        'eraseUser',
        { userId: erasedId, reason: 'gdpr_art17_request', currentPassword: '' },
        bearer(await adminToken(server)),
      );
      client.close();
      expect(receipt!.jws).to.be.a('string');

      // The key store holds no key of the erased user, and still the other's.
      expect(await keySql('select 1 from data_keys where user_id = $1', [erasedId], server)).to.have.length(0);
      expect(await keySql('select 1 from data_keys where user_id = $1', [keptId], server)).to.have.length(1);
      // The live main database holds no key material at all.
      expect(await sql('select 1 from user_keys', [], db)).to.have.length(0);
      for (const wrapped of wrappedKeys) expect(await findEverywhere(wrapped, db), 'a wrapped key').to.deep.equal([]);
    } finally {
      await server.close();
      await idp.close();
    }

    const restored = await createTestDatabase();
    databases.push(restored);
    await run('pg_restore', ['--no-owner', `--dbname=${restored.url}`, dump]);
    expect(await sql('select 1 from users where id = $1', [erasedId], restored), 'the dump predates the erasure').to.have.length(
      1,
    );

    // The dump holds no key, wrapped or not, and nothing personal in clear.
    expect(await sql('select 1 from user_keys', [], restored)).to.have.length(0);
    for (const wrapped of wrappedKeys) expect(await findEverywhere(wrapped, restored), 'a wrapped key').to.deep.equal([]);
    const clear = [erasedEmail, PERSON.name, PERSON.phone.slice(4), PERSON.location, PERSON.ip, PERSON.userAgent, subject];
    for (const value of [...clear, 'avatars.backupstone.example', PERSON.preferences.favouriteDump]) {
      expect(await findEverywhere(value, restored), value).to.deep.equal([]);
    }
    // What the dump still says without a data key: the blind index, which confirms a guessed
    // address to whoever also holds TESSERA_EMAIL_INDEX_KEY (and to no one else).
    expect(await findEverywhere(emailIndexOf(erasedEmail), restored)).to.deep.equal(['users.email_index']);

    // Read with everything the service holds: its master key and the live key store.
    const orm = await connectOrm(restored.url);
    const store = new PgKeyStore(defaultKeyDatabaseUrl(db.url));
    try {
      const keys = new UserDataKeys(masterKeyBoxes(masterKey, []).userKeys, systemClock, store);
      const kept = await openedFields(orm, keys, keptId);
      expect(kept.sealed, "the kept user's sealed fields").to.equal(8);
      expect(kept.opened, 'the same dump opens for a user not erased').to.have.members([
        keptEmail,
        PERSON.name,
        PERSON.location,
        PERSON.phone,
        PERSON.ip,
        PERSON.userAgent,
        PERSON.avatarUrl,
        JSON.stringify(PERSON.preferences),
      ]);
      const erased = await openedFields(orm, keys, erasedId);
      // 8, and the ip and user agent of the sign-in that linked the provider.
      expect(erased.sealed, "the erased user's sealed fields are in the dump").to.equal(10);
      expect(erased.opened, 'nothing of the erased user opens').to.deep.equal([]);
      // The provider subject is sealed in the dump and opens no more either.
      const [link] = await orm.em
        .fork()
        .execute<{ id: string; provider_subject_ciphertext: string }[]>(
          'select id, provider_subject_ciphertext from social_logins where user_id = ?',
          [erasedId],
        );
      expect(link!.provider_subject_ciphertext).to.match(/^v1\./);
      const cipher = (await keys.forReading(orm.em.fork(), [erasedId])).get(erasedId);
      expect(openField(cipher, link!.provider_subject_ciphertext, providerSubjectBinding(link!.id))).to.equal('');
    } finally {
      await store.close();
      await orm.close();
    }
  });
});
