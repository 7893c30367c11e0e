import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { sealedProfileColumn } from '../helpers/sealed-profile.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

function updateProfile(token: string, profile: Partial<Profile>, updateMask: string[] | undefined) {
  return call(harness().server.profile, 'updateProfile', { profile: Profile.fromPartial(profile), updateMask }, bearer(token));
}

async function getOwnProfile(token: string): Promise<Profile> {
  return (await call(harness().server.profile, 'getProfile', { userId: '' }, bearer(token))).profile!;
}

async function profileRow(userId: string): Promise<Record<string, unknown>> {
  const [row] = await sql('select * from user_profiles where user_id = $1', [userId]);
  return row;
}

async function profileUpdatedEvents(userId: string) {
  return sql<{ actor_type: string; actor_id: string; metadata: { fields: string[] }; row: string }>(
    `select actor_type, actor_id, metadata, row_to_json(e)::text as row
       from audit_events e
      where type = 'profile.updated' and subject_user_id = $1
      order by id`,
    [userId],
  );
}

describe('ProfileService.UpdateProfile', () => {
  describe('update mask semantics', () => {
    it('changes only the fields named in update_mask', async () => {
      const user = await signedInUser({ fullName: 'Original Name' });
      await updateProfile(user.accessToken, { bio: 'I like tea', location: 'Lisbon, Portugal' }, ['bio', 'location']);

      const { profile } = await updateProfile(
        user.accessToken,
        { fullName: 'New Name', bio: 'not masked', location: 'not masked either', avatarUrl: 'https://example.com/a.png' },
        ['full_name'],
      );

      expect(profile!.fullName).to.equal('New Name');
      expect(profile!.bio).to.equal('I like tea');
      expect(profile!.location).to.equal('Lisbon, Portugal');
      expect(profile!.avatarUrl).to.equal('');
      const stored = await getOwnProfile(user.accessToken);
      expect(stored).to.deep.include({ fullName: 'New Name', bio: 'I like tea', location: 'Lisbon, Portugal', avatarUrl: '' });
    });

    it('clears a masked field whose value is empty', async () => {
      const user = await signedInUser({ fullName: 'Clear Me' });
      await updateProfile(
        user.accessToken,
        { bio: 'to be cleared', location: 'Porto', phoneNumber: '+351912345678', preferences: { theme: 'dark' } },
        ['bio', 'location', 'phone_number', 'preferences'],
      );

      const { profile } = await updateProfile(user.accessToken, {}, ['bio', 'phone_number', 'preferences']);

      expect(profile!.bio).to.equal('');
      expect(profile!.phoneNumber).to.equal('');
      expect(profile!.preferences).to.deep.equal({});
      expect(profile!.location).to.equal('Porto');
      expect(profile!.fullName).to.equal('Clear Me');
      const row = await profileRow(user.user!.id);
      expect(row.bio).to.equal('');
      expect(row.phone_number_ciphertext).to.equal(null);
      expect(row.preferences).to.equal('');
    });

    it('returns the stored profile with user_id and a moved updated_at', async () => {
      const user = await signedInUser();
      const before = await getOwnProfile(user.accessToken);
      await new Promise((resolve) => setTimeout(resolve, 5));

      const { profile } = await updateProfile(user.accessToken, { location: 'Berlin' }, ['location']);

      expect(profile!.userId).to.equal(user.user!.id);
      expect(profile!.createdAt!.getTime()).to.equal(before.createdAt!.getTime());
      expect(profile!.updatedAt!.getTime()).to.be.greaterThan(before.updatedAt!.getTime());
    });

    it('trims surrounding whitespace from text fields', async () => {
      const user = await signedInUser();

      const { profile } = await updateProfile(user.accessToken, { fullName: '  Spaced Out  ', location: '\tParis ' }, [
        'full_name',
        'location',
      ]);

      expect(profile!.fullName).to.equal('Spaced Out');
      expect(profile!.location).to.equal('Paris');
    });
  });

  describe('preferences', () => {
    it('round-trips a Struct with nested objects, numbers, booleans, lists and null', async () => {
      const user = await signedInUser();
      const preferences = {
        locale: 'pt-PT',
        theme: 'dark',
        fontScale: 1.25,
        pageSize: 50,
        negative: -3,
        beta: true,
        newsletter: false,
        nothing: null,
        tags: ['a', 'b', 3, false, null, { deep: 'x' }, [1, [2]]],
        notifications: { email: { weekly: true, digestHour: 8 }, sms: false, channels: [] },
        emptyObject: {},
        unicode: 'olá 👋 日本',
      };

      const { profile } = await updateProfile(user.accessToken, { preferences }, ['preferences']);

      expect(profile!.preferences).to.deep.equal(preferences);
      expect((await getOwnProfile(user.accessToken)).preferences).to.deep.equal(preferences);
      const stored = await sealedProfileColumn(user.user!.id, 'preferences');
      expect(stored.stored).to.match(/^v1\./);
      expect(JSON.parse(stored.opened)).to.deep.equal(preferences);
    });

    it('replaces the whole preferences object rather than merging it', async () => {
      const user = await signedInUser();
      await updateProfile(user.accessToken, { preferences: { a: 1, b: { c: 2 } } }, ['preferences']);

      const { profile } = await updateProfile(user.accessToken, { preferences: { b: { d: 3 } } }, ['preferences']);

      expect(profile!.preferences).to.deep.equal({ b: { d: 3 } });
    });
  });

  describe('phone number', () => {
    it('stores the phone number encrypted and returns it in clear', async () => {
      const user = await signedInUser();

      const { profile } = await updateProfile(user.accessToken, { phoneNumber: '+351912345678' }, ['phone_number']);

      expect(profile!.phoneNumber).to.equal('+351912345678');
      expect((await getOwnProfile(user.accessToken)).phoneNumber).to.equal('+351912345678');
      const row = await profileRow(user.user!.id);
      const ciphertext = row.phone_number_ciphertext as string;
      expect(ciphertext).to.be.a('string');
      expect(ciphertext.startsWith('v1.')).to.equal(true);
      expect(ciphertext).to.not.include('912345678');
      expect(ciphertext).to.not.include('351912345678');
      expect(JSON.stringify(row)).to.not.include('912345678');
    });

    it('encrypts the same number differently for each write', async () => {
      const user = await signedInUser();
      await updateProfile(user.accessToken, { phoneNumber: '+351912345678' }, ['phone_number']);
      const first = (await profileRow(user.user!.id)).phone_number_ciphertext;
      await updateProfile(user.accessToken, { phoneNumber: '+351912345679' }, ['phone_number']);
      await updateProfile(user.accessToken, { phoneNumber: '+351912345678' }, ['phone_number']);

      const second = (await profileRow(user.user!.id)).phone_number_ciphertext;

      expect(second).to.not.equal(first);
      expect((await getOwnProfile(user.accessToken)).phoneNumber).to.equal('+351912345678');
    });

    it('normalizes spaces, dashes and parentheses to E.164', async () => {
      const user = await signedInUser();

      const { profile } = await updateProfile(user.accessToken, { phoneNumber: '+1 (415) 555-0123' }, ['phone_number']);

      expect(profile!.phoneNumber).to.equal('+14155550123');
    });
  });

  describe('audit trail', () => {
    it('records profile.updated naming the changed fields, never their values', async () => {
      const user = await signedInUser();
      const phone = '+447400123456';
      const bio = 'A very particular biography sentence';

      await updateProfile(user.accessToken, { phoneNumber: phone, bio }, ['phone_number', 'bio']);

      const events = await profileUpdatedEvents(user.user!.id);
      expect(events).to.have.length(1);
      expect(events[0].metadata.fields).to.have.members(['phone_number', 'bio']);
      expect(events[0].actor_type).to.equal('user');
      expect(events[0].actor_id).to.equal(user.user!.id);
      expect(events[0].row).to.not.include('7400123456');
      expect(events[0].row).to.not.include('particular biography');
    });

    it('names only the fields whose value really changed', async () => {
      const user = await signedInUser({ fullName: 'Same Name' });

      await updateProfile(user.accessToken, { fullName: 'Same Name', location: 'Oslo' }, ['full_name', 'location']);

      const events = await profileUpdatedEvents(user.user!.id);
      expect(events.map((e) => e.metadata.fields)).to.deep.equal([['location']]);
    });

    it('writes no new profile.updated event and keeps updated_at when the values are identical', async () => {
      const user = await signedInUser({ fullName: 'Idempotent Ida' });
      const request = {
        fullName: 'Idempotent Ida',
        avatarUrl: 'https://example.com/ida.png',
        bio: 'Line one\nLine two',
        location: 'Lisbon',
        phoneNumber: '+351912345678',
        preferences: { locale: 'pt-PT', theme: 'dark', notifications: { weekly: true, email: false }, list: [1, 'two'] },
      };
      const mask = ['full_name', 'avatar_url', 'bio', 'location', 'phone_number', 'preferences'];
      const first = await updateProfile(user.accessToken, request, mask);
      const eventsBefore = await profileUpdatedEvents(user.user!.id);
      const rowBefore = await profileRow(user.user!.id);

      const second = await updateProfile(user.accessToken, request, mask);

      expect(await profileUpdatedEvents(user.user!.id)).to.have.length(eventsBefore.length);
      expect(second.profile!.updatedAt!.getTime()).to.equal(first.profile!.updatedAt!.getTime());
      expect(await profileRow(user.user!.id)).to.deep.equal(rowBefore);
    });

    it('writes no new event when the same preferences come back in another key order', async () => {
      const user = await signedInUser();
      await updateProfile(user.accessToken, { preferences: { zeta: 1, alpha: { y: 2, b: 3 } } }, ['preferences']);
      const eventsBefore = await profileUpdatedEvents(user.user!.id);

      await updateProfile(user.accessToken, { preferences: { alpha: { b: 3, y: 2 }, zeta: 1 } }, ['preferences']);

      expect(await profileUpdatedEvents(user.user!.id)).to.have.length(eventsBefore.length);
    });
  });

  describe('validation', () => {
    const cases: { name: string; profile: Partial<Profile>; mask: string[] | undefined; fields: string[] }[] = [
      { name: 'an empty update_mask', profile: { fullName: 'X' }, mask: [], fields: ['update_mask'] },
      { name: 'a missing update_mask', profile: { fullName: 'X' }, mask: undefined, fields: ['update_mask'] },
      { name: 'an unknown path', profile: { fullName: 'X' }, mask: ['email'], fields: ['update_mask'] },
      { name: 'an output-only path', profile: {}, mask: ['user_id'], fields: ['update_mask'] },
      { name: 'a camelCase path', profile: { fullName: 'X' }, mask: ['fullName'], fields: ['update_mask'] },
      { name: 'a duplicate path', profile: { bio: 'x' }, mask: ['bio', 'bio'], fields: ['update_mask'] },
      {
        name: 'a full_name over 200 characters',
        profile: { fullName: 'n'.repeat(201) },
        mask: ['full_name'],
        fields: ['profile.full_name'],
      },
      {
        name: 'a full_name with a newline',
        profile: { fullName: 'two\nlines' },
        mask: ['full_name'],
        fields: ['profile.full_name'],
      },
      {
        name: 'an http avatar_url',
        profile: { avatarUrl: 'http://example.com/a.png' },
        mask: ['avatar_url'],
        fields: ['profile.avatar_url'],
      },
      {
        name: 'a javascript: avatar_url',
        profile: { avatarUrl: 'javascript:alert(1)' },
        mask: ['avatar_url'],
        fields: ['profile.avatar_url'],
      },
      {
        name: 'an avatar_url that is no URL',
        profile: { avatarUrl: 'example.com/a.png' },
        mask: ['avatar_url'],
        fields: ['profile.avatar_url'],
      },
      {
        name: 'an avatar_url over 2048 characters',
        profile: { avatarUrl: `https://example.com/${'a'.repeat(2048)}` },
        mask: ['avatar_url'],
        fields: ['profile.avatar_url'],
      },
      {
        name: 'a phone number without +',
        profile: { phoneNumber: '351912345678' },
        mask: ['phone_number'],
        fields: ['profile.phone_number'],
      },
      {
        name: 'a phone number with letters',
        profile: { phoneNumber: '+35191234abcd' },
        mask: ['phone_number'],
        fields: ['profile.phone_number'],
      },
      {
        name: 'a phone number too long',
        profile: { phoneNumber: '+1234567890123456' },
        mask: ['phone_number'],
        fields: ['profile.phone_number'],
      },
      {
        name: 'a phone number starting with +0',
        profile: { phoneNumber: '+0912345678' },
        mask: ['phone_number'],
        fields: ['profile.phone_number'],
      },
      { name: 'a bio over 2000 characters', profile: { bio: 'b'.repeat(2001) }, mask: ['bio'], fields: ['profile.bio'] },
      {
        name: 'a location over 200 characters',
        profile: { location: 'l'.repeat(201) },
        mask: ['location'],
        fields: ['profile.location'],
      },
      {
        name: 'preferences over 16 KiB as JSON',
        profile: { preferences: { blob: 'p'.repeat(16 * 1024) } },
        mask: ['preferences'],
        fields: ['profile.preferences'],
      },
    ];

    for (const c of cases) {
      it(`refuses ${c.name} with INVALID_ARGUMENT on ${c.fields.join(', ')}`, async () => {
        const user = await signedInUser();

        await expectRpcError(updateProfile(user.accessToken, c.profile, c.mask), status.INVALID_ARGUMENT, { fields: c.fields });
      });
    }

    it('names every invalid field at once', async () => {
      const user = await signedInUser();

      const details = await expectRpcError(
        updateProfile(
          user.accessToken,
          {
            fullName: 'n'.repeat(201),
            avatarUrl: 'http://x.test',
            phoneNumber: '12',
            bio: 'b'.repeat(2001),
            location: 'l'.repeat(201),
          },
          ['full_name', 'avatar_url', 'phone_number', 'bio', 'location'],
        ),
        status.INVALID_ARGUMENT,
        { fields: ['profile.full_name', 'profile.avatar_url', 'profile.phone_number', 'profile.bio', 'profile.location'] },
      );
      for (const violation of details.badRequest!.fieldViolations) expect(violation.description).to.not.equal('');
    });

    it('accepts values exactly at the limits', async () => {
      const user = await signedInUser();
      const preferences = { blob: 'p'.repeat(16 * 1024 - '{"blob":""}'.length) };
      expect(Buffer.byteLength(JSON.stringify(preferences))).to.equal(16 * 1024);

      const { profile } = await updateProfile(
        user.accessToken,
        {
          fullName: 'n'.repeat(200),
          bio: 'b'.repeat(2000),
          location: 'l'.repeat(200),
          phoneNumber: '+5511987654321',
          preferences,
        },
        ['full_name', 'bio', 'location', 'phone_number', 'preferences'],
      );

      expect(profile!.fullName).to.have.length(200);
      expect(profile!.bio).to.have.length(2000);
      expect(profile!.location).to.have.length(200);
      expect(profile!.phoneNumber).to.equal('+5511987654321');
    });

    it('does not check fields that are not in the mask', async () => {
      const user = await signedInUser();

      const { profile } = await updateProfile(
        user.accessToken,
        { fullName: 'Fine', avatarUrl: 'http://not-checked', phoneNumber: 'junk' },
        ['full_name'],
      );

      expect(profile!.fullName).to.equal('Fine');
      expect(profile!.avatarUrl).to.equal('');
      expect(profile!.phoneNumber).to.equal('');
    });

    it('changes nothing when any masked field is invalid', async () => {
      const user = await signedInUser({ fullName: 'Unchanged' });
      await updateProfile(user.accessToken, { bio: 'old bio', phoneNumber: '+351912345678' }, ['bio', 'phone_number']);
      const rowBefore = await profileRow(user.user!.id);
      const eventsBefore = await profileUpdatedEvents(user.user!.id);

      await expectRpcError(
        updateProfile(user.accessToken, { fullName: 'Valid New Name', bio: 'valid new bio', phoneNumber: 'not a phone' }, [
          'full_name',
          'bio',
          'phone_number',
        ]),
        status.INVALID_ARGUMENT,
        { fields: ['profile.phone_number'] },
      );

      expect(await profileRow(user.user!.id)).to.deep.equal(rowBefore);
      expect(await profileUpdatedEvents(user.user!.id)).to.have.length(eventsBefore.length);
      expect(await getOwnProfile(user.accessToken)).to.deep.include({
        fullName: 'Unchanged',
        bio: 'old bio',
        phoneNumber: '+351912345678',
      });
    });
  });

  describe('ownership', () => {
    it("ignores profile.user_id: a caller cannot change someone else's profile", async () => {
      const caller = await signedInUser({ fullName: 'Caller' });
      const victim = await signedInUser({ fullName: 'Victim' });
      const victimBefore = await profileRow(victim.user!.id);

      const { profile } = await updateProfile(
        caller.accessToken,
        { userId: victim.user!.id, fullName: 'Hijacked', bio: 'pwned' },
        ['full_name', 'bio'],
      );

      expect(profile!.userId).to.equal(caller.user!.id);
      expect(profile!.fullName).to.equal('Hijacked');
      expect(await profileRow(victim.user!.id)).to.deep.equal(victimBefore);
      expect(await profileUpdatedEvents(victim.user!.id)).to.have.length(0);
      expect((await getOwnProfile(victim.accessToken)).fullName).to.equal('Victim');
    });

    it('ignores created_at and updated_at in the request', async () => {
      const user = await signedInUser();
      const before = await getOwnProfile(user.accessToken);

      const { profile } = await updateProfile(
        user.accessToken,
        { location: 'Rome', createdAt: new Date('2000-01-01T00:00:00Z'), updatedAt: new Date('2000-01-01T00:00:00Z') },
        ['location'],
      );

      expect(profile!.createdAt!.getTime()).to.equal(before.createdAt!.getTime());
      expect(profile!.updatedAt!.getFullYear()).to.be.greaterThan(2000);
    });
  });
});
