import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { connectOrm } from '../../src/db/index.js';
import { sealClearProfileFields } from '../../src/domain/compliance/profile-sealing.js';
import { systemOperation } from '../../src/domain/kernel/operation.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { findEverywhere } from '../helpers/database-sweep.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { adminToken, signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { sealedProfileColumn } from '../helpers/sealed-profile.js';
import { bearer, call, startTestServer, type TestServer } from '../helpers/server.js';

/** The last migration before the avatar URL and preferences were sealed. */
const BEFORE_SEALED_PROFILES = 'Migration20261202150000_drop_clear_emails';

function updateProfile(token: string, profile: Partial<Profile>, updateMask: string[]) {
  return call(harness().server.profile, 'updateProfile', { profile: Profile.fromPartial(profile), updateMask }, bearer(token));
}

function marker(): string {
  return randomBytes(6).toString('hex');
}

describe('Avatar URL and preferences at rest', function () {
  this.timeout(60_000);

  it("are stored as ciphertext under the user's data key and returned in clear", async () => {
    const user = await signedInUser();
    const host = `cdn-${marker()}.example.com`;
    const avatarUrl = `https://${host}/a.png`;
    const theme = `theme-${marker()}`;
    const preferences = { theme, nested: { tags: ['x', 1, null] } };

    const { profile } = await updateProfile(user.accessToken, { avatarUrl, preferences }, ['avatar_url', 'preferences']);

    expect(profile!).to.deep.include({ avatarUrl, preferences });
    const read = await call(harness().server.profile, 'getProfile', { userId: '' }, bearer(user.accessToken));
    expect(read.profile!).to.deep.include({ avatarUrl, preferences });
    const avatar = await sealedProfileColumn(user.user!.id, 'avatar_url');
    const prefs = await sealedProfileColumn(user.user!.id, 'preferences');
    expect(avatar.stored).to.match(/^v1\./);
    expect(prefs.stored).to.match(/^v1\./);
    expect(avatar.opened).to.equal(avatarUrl);
    expect(JSON.parse(prefs.opened)).to.deep.equal(preferences);
    expect(await findEverywhere(host)).to.deep.equal([]);
    expect(await findEverywhere(theme)).to.deep.equal([]);
  });

  it('keep the etag when the same preferences come back in another key order, and raise it when they change', async () => {
    const user = await signedInUser();
    const first = await updateProfile(user.accessToken, { preferences: { a: 1, b: { c: 2, d: 3 } } }, ['preferences']);
    const same = await updateProfile(user.accessToken, { preferences: { b: { d: 3, c: 2 }, a: 1 } }, ['preferences']);
    expect(same.profile!.etag).to.equal(first.profile!.etag);
    const changed = await updateProfile(user.accessToken, { preferences: { a: 2 } }, ['preferences']);
    expect(changed.profile!.etag).to.not.equal(first.profile!.etag);
    expect(changed.profile!.preferences).to.deep.equal({ a: 2 });
  });

  it('store nothing for cleared preferences and an empty avatar URL', async () => {
    const user = await signedInUser();
    await updateProfile(user.accessToken, { avatarUrl: 'https://example.com/x.png', preferences: { a: 1 } }, [
      'avatar_url',
      'preferences',
    ]);
    const { profile } = await updateProfile(user.accessToken, {}, ['avatar_url', 'preferences']);
    expect(profile!).to.deep.include({ avatarUrl: '', preferences: {} });
    const [row] = await sql('select avatar_url, preferences from user_profiles where user_id = $1', [user.user!.id]);
    expect(row).to.deep.equal({ avatar_url: '', preferences: '' });
  });
});

/** A user and profile as the previous version wrote them: avatar URL and preferences (jsonb) in clear. */
async function legacyProfile(db: TestDatabase, values: { avatarUrl: string; preferences: Record<string, unknown> }) {
  const id = randomUUID();
  await sql(
    `insert into users (id, email_index, password_hash, password_pepper_id, role, status, created_at, updated_at)
     values ($1, $2, 'x', 'p', 'user', 'active', now(), now())`,
    [id, randomBytes(16).toString('hex')],
    db,
  );
  await sql(
    `insert into user_profiles (user_id, avatar_url, preferences, created_at, updated_at) values ($1, $2, $3, now(), now())`,
    [id, values.avatarUrl, JSON.stringify(values.preferences)],
    db,
  );
  return id;
}

async function readProfile(server: TestServer, userId: string) {
  return (await call(server.profile, 'getProfile', { userId }, bearer(await adminToken(server)))).profile!;
}

describe('Avatar URLs and preferences stored in clear by the previous version', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  // Every start is an instance of one deployment: same pepper and master key.
  const env = { TESSERA_PEPPER: randomBytes(32).toString('base64'), TESSERA_MASTER_KEY: randomBytes(32).toString('base64') };
  beforeEach(async () => {
    db = await createTestDatabase();
    const orm = await connectOrm(db.url, 2);
    try {
      await orm.getMigrator().up({ to: BEFORE_SEALED_PROFILES });
    } finally {
      await orm.close();
    }
  });
  afterEach(() => db.drop());

  it('are sealed at start-up before the service serves, once: a second start changes nothing', async () => {
    const host = `legacy-${marker()}.example.com`;
    const theme = `legacy-${marker()}`;
    const full = { avatarUrl: `https://${host}/me.png`, preferences: { theme, n: [1, { deep: true }] } };
    const withValues = await legacyProfile(db, full);
    const empty = await legacyProfile(db, { avatarUrl: '', preferences: {} });

    const server = await startTestServer(db, env);
    let stored: Record<string, unknown>[];
    try {
      stored = await sql('select user_id, avatar_url, preferences, version from user_profiles order by user_id', [], db);
      const sealed = stored.find((r) => r.user_id === withValues)!;
      expect(sealed.avatar_url).to.match(/^v1\./);
      expect(sealed.preferences).to.match(/^v1\./);
      expect(sealed.version, 'the values did not change: etags stay valid').to.equal(1);
      expect(stored.find((r) => r.user_id === empty)).to.deep.include({ avatar_url: '', preferences: '' });
      expect(await findEverywhere(host, db)).to.deep.equal([]);
      expect(await findEverywhere(theme, db)).to.deep.equal([]);

      expect(await readProfile(server, withValues)).to.deep.include(full);
      expect(await readProfile(server, empty)).to.deep.include({ avatarUrl: '', preferences: {} });
    } finally {
      await server.close();
    }

    const again = await startTestServer(db, env);
    try {
      const after = await sql('select user_id, avatar_url, preferences, version from user_profiles order by user_id', [], db);
      expect(after, 'nothing left to convert').to.deep.equal(stored);
      expect(await readProfile(again, withValues)).to.deep.include(full);
    } finally {
      await again.close();
    }
  });

  it('are shared between two converters running at once, each profile sealed exactly once', async () => {
    const server = await startTestServer(db, env);
    try {
      // Rows the previous version wrote after the migration, while it still ran beside this one.
      const values = Array.from({ length: 6 }, (_, i) => ({
        avatarUrl: `https://late-${i}-${marker()}.example.com/a.png`,
        preferences: { i, mark: marker() },
      }));
      const ids = [];
      for (const v of values) ids.push(await legacyProfile(db, v));

      const { deps, orm } = server.tessera;
      const counts = await Promise.all([
        sealClearProfileFields(systemOperation(deps, orm.em.fork(), 'a')),
        sealClearProfileFields(systemOperation(deps, orm.em.fork(), 'b')),
      ]);
      expect(counts[0] + counts[1]).to.equal(values.length);
      expect(await sealClearProfileFields(systemOperation(deps, orm.em.fork(), 'c'))).to.equal(0);
      for (const [i, id] of ids.entries()) {
        expect(await readProfile(server, id)).to.deep.include(values[i]);
        expect(await findEverywhere(values[i]!.preferences.mark, db)).to.deep.equal([]);
      }
    } finally {
      await server.close();
    }
  });
});
