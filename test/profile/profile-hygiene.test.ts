import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { signedInUser, sql } from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { sealedProfileColumn } from '../helpers/sealed-profile.js';
import { decodeDetails, expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call } from '../helpers/server.js';

function updateProfile(token: string, profile: Partial<Profile>, updateMask: string[]) {
  return call(harness().server.profile, 'updateProfile', { profile: Profile.fromPartial(profile), updateMask }, bearer(token));
}

/** `{ d: { d: ... { d: 'leaf' } } }` with `levels` objects, built without recursion. */
function nestedObjects(levels: number): Record<string, unknown> {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { d: value };
  return value as Record<string, unknown>;
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
function delimited(fieldNumber: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(fieldNumber << 3) | 2, ...varint(body.length)]), body]);
}

/**
 * The wire bytes of an UpdateProfileRequest whose preferences hold a list
 * nested `depth` deep ({"d": [[[...["x"]...]]]}), written iteratively in one
 * buffer (ts-proto's encoder would recurse once per level, on the client).
 */
function deeplyNestedPreferencesRequest(depth: number): Buffer {
  const leaf = delimited(3, Buffer.from('x')); // Value.string_value
  // Sizes inner to outer: Value i holds ListValue i (field 6), which holds Value i-1 (field 1).
  const valueSizes = [leaf.length];
  const listSizes = [0];
  for (let i = 1; i <= depth; i++) {
    listSizes.push(1 + varint(valueSizes[i - 1]).length + valueSizes[i - 1]);
    valueSizes.push(1 + varint(listSizes[i]).length + listSizes[i]);
  }
  const value = Buffer.alloc(valueSizes[depth]);
  let pos = 0;
  for (let i = depth; i >= 1; i--) {
    const head = [(6 << 3) | 2, ...varint(listSizes[i]), (1 << 3) | 2, ...varint(valueSizes[i - 1])];
    value.set(head, pos);
    pos += head.length;
  }
  value.set(leaf, pos);
  const entry = Buffer.concat([delimited(1, Buffer.from('d')), delimited(2, value)]);
  const struct = delimited(1, entry);
  const profile = delimited(7, struct);
  const mask = delimited(2, delimited(1, Buffer.from('preferences')));
  return Buffer.concat([delimited(1, profile), mask]);
}

/** Sends raw request bytes to UpdateProfile and returns the error it fails with. */
function sendRawUpdateProfile(token: string, bytes: Buffer): Promise<ServiceError | undefined> {
  const client = new Client(harness().server.address, credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/tessera.v1.ProfileService/UpdateProfile',
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      bearer(token),
      (err) => {
        client.close();
        resolve(err ?? undefined);
      },
    );
  });
}

describe('ProfileService.UpdateProfile: profile data hygiene', () => {
  describe('phone_number', () => {
    const valid = [
      { country: 'Portugal (mobile)', input: '+351 912 345 678', stored: '+351912345678' },
      { country: 'United States', input: '+1 (202) 555-0123', stored: '+12025550123' },
      { country: 'United Kingdom (mobile)', input: '+44 7400 123456', stored: '+447400123456' },
      { country: 'Germany (mobile)', input: '+49 151 12345678', stored: '+4915112345678' },
      { country: 'Japan', input: '+81-3-1234-5678', stored: '+81312345678' },
      { country: 'Brazil (mobile)', input: '+55 (11) 98765-4321', stored: '+5511987654321' },
      { country: 'India (mobile)', input: '+91 98765 43210', stored: '+919876543210' },
      { country: 'France (mobile)', input: '+33.6.12.34.56.78', stored: '+33612345678' },
    ];
    for (const c of valid) {
      it(`accepts a valid number of ${c.country} and stores it in E.164 form`, async () => {
        const user = await signedInUser();
        const { profile } = await updateProfile(user.accessToken, { phoneNumber: c.input }, ['phone_number']);
        expect(profile!.phoneNumber).to.equal(c.stored);
      });
    }

    const invalid = [
      { name: 'a number too short for its country', input: '+351 91234' },
      { name: 'a UK drama number outside any allocated range', input: '+44 7700 900123' },
      { name: 'an unassigned country code', input: '+999 123456789' },
      { name: 'a national form without +', input: '912 345 678' },
      { name: 'an extension', input: '+1 202 555 0123 ext. 5' },
      { name: 'a tel: URI', input: 'tel:+12025550123' },
      { name: 'letters mixed in', input: '+1 202 FLOWERS' },
      { name: 'digits beyond E.164 length', input: '+1234567890123456' },
      { name: 'a huge input', input: `+1${'2'.repeat(10_000)}` },
      { name: 'a NUL byte', input: '+351912345678\u0000' },
      { name: 'an invisible character', input: '+351\u200b912345678' },
      { name: 'full-width digits', input: '+３５１９１２３４５６７８' },
    ];
    for (const c of invalid) {
      it(`refuses ${c.name} with INVALID_ARGUMENT naming profile.phone_number`, async () => {
        const user = await signedInUser();
        await expectRpcError(
          updateProfile(user.accessToken, { phoneNumber: c.input }, ['phone_number']),
          status.INVALID_ARGUMENT,
          {
            fields: ['profile.phone_number'],
          },
        );
      });
    }
  });

  describe('avatar_url', () => {
    it('accepts an https URL already in normal form and returns it unchanged', async () => {
      const user = await signedInUser();
      const url = 'https://cdn.example.com/avatars/42.png?size=128#top';
      const { profile } = await updateProfile(user.accessToken, { avatarUrl: url }, ['avatar_url']);
      expect(profile!.avatarUrl).to.equal(url);
    });

    const normalized = [
      {
        name: 'scheme and host in capitals, the default port, dot segments',
        input: 'HTTPS://CDN.Example.COM:443/avatars/./x/../42.png?size=128#top',
        stored: 'https://cdn.example.com/avatars/42.png?size=128#top',
      },
      {
        name: 'an internationalized host and path',
        input: 'https://bücher.example/ä.png',
        stored: 'https://xn--bcher-kva.example/%C3%A4.png',
      },
      { name: 'backslashes for slashes', input: 'https:\\\\cdn.example.com\\a.png', stored: 'https://cdn.example.com/a.png' },
      { name: 'no path', input: 'https://cdn.example.com', stored: 'https://cdn.example.com/' },
    ];
    for (const c of normalized) {
      it(`stores and returns the WHATWG serialization of ${c.name}`, async () => {
        const user = await signedInUser();
        const { profile } = await updateProfile(user.accessToken, { avatarUrl: c.input }, ['avatar_url']);
        expect(profile!.avatarUrl).to.equal(c.stored);
        const row = await sealedProfileColumn(user.user!.id, 'avatar_url');
        expect(row.stored).to.match(/^v1\./);
        expect(row.opened).to.equal(c.stored);
        const read = await call(harness().server.profile, 'getProfile', { userId: '' }, bearer(user.accessToken));
        expect(read.profile!.avatarUrl).to.equal(c.stored);
      });
    }

    const invalid = [
      { name: 'an http URL', input: 'http://cdn.example.com/a.png' },
      { name: 'a javascript: URL', input: 'javascript:alert(document.cookie)' },
      { name: 'a JavaScript: URL in mixed case with spaces', input: '  JaVaScRiPt:alert(1)' },
      { name: 'a data: URL', input: 'data:image/png;base64,iVBORw0KGgo=' },
      { name: 'a protocol-relative URL', input: '//cdn.example.com/a.png' },
      { name: 'a URL with a user name and password', input: 'https://user:secret@cdn.example.com/a.png' },
      { name: 'a URL with a user name', input: 'https://user@cdn.example.com/a.png' },
      { name: 'a URL over 2048 characters', input: `https://cdn.example.com/${'a'.repeat(2048)}` },
      { name: 'a URL with a NUL byte', input: 'https://cdn.example.com/\u0000.png' },
      { name: 'a URL with a newline', input: 'https://cdn.example.com/\n.png' },
      { name: 'no URL at all', input: 'not a url' },
      { name: 'a port other than 443', input: 'https://cdn.example.com:8443/a.png' },
      { name: 'an IPv4 address for a host', input: 'https://192.168.0.10/a.png' },
      { name: 'an IPv4 address written as one number', input: 'https://3232235530/a.png' },
      { name: 'an IPv6 address for a host', input: 'https://[::1]/a.png' },
      { name: 'a host name of one label', input: 'https://localhost/a.png' },
      { name: 'a host name of one label with a trailing dot', input: 'https://intranet./a.png' },
      { name: 'a soft hyphen in the host (IDNA would drop it)', input: 'https://cdn.exa\u00admple.com/a.png' },
      { name: 'a zero-width joiner', input: 'https://cdn.example.com/\u200d.png' },
      { name: 'a tab inside (WHATWG would drop it)', input: 'https://cdn.exa\tmple.com/a.png' },
      { name: 'a space', input: 'https://cdn.example.com/a b.png' },
      { name: 'a normal form over 2048 characters', input: `https://cdn.example.com/${'é'.repeat(700)}` },
    ];
    for (const c of invalid) {
      it(`refuses ${c.name} with INVALID_ARGUMENT naming profile.avatar_url`, async () => {
        const user = await signedInUser();
        await expectRpcError(updateProfile(user.accessToken, { avatarUrl: c.input }, ['avatar_url']), status.INVALID_ARGUMENT, {
          fields: ['profile.avatar_url'],
        });
      });
    }
  });

  describe('text fields', () => {
    const fields = [
      { path: 'full_name', key: 'fullName', limit: 200 },
      { path: 'bio', key: 'bio', limit: 2000 },
      { path: 'location', key: 'location', limit: 200 },
    ] as const;
    for (const f of fields) {
      const refusals = [
        { name: `one character over ${f.limit}`, value: 'x'.repeat(f.limit + 1) },
        { name: 'a huge string', value: 'x'.repeat(15_000) },
        { name: 'a NUL byte', value: 'Ada\u0000Lovelace' },
        { name: 'a right-to-left override', value: 'Ada \u202eecalevoL' },
        { name: 'a zero-width space', value: 'Ada\u200bLovelace' },
        { name: 'a byte order mark inside', value: 'Ada\ufeffLovelace' },
        { name: 'an escape character', value: 'Ada\u001b[31m' },
      ];
      for (const r of refusals) {
        it(`refuses ${f.path} with ${r.name}, naming profile.${f.path}`, async () => {
          const user = await signedInUser();
          await expectRpcError(updateProfile(user.accessToken, { [f.key]: r.value }, [f.path]), status.INVALID_ARGUMENT, {
            fields: [`profile.${f.path}`],
          });
        });
      }
    }

    it('keeps zero-width joiners (emoji sequences, Persian) and counts characters, not UTF-16 units', async () => {
      const user = await signedInUser();
      const name = 'نیم\u200cفاصله 👩\u200d💻';
      const { profile } = await updateProfile(user.accessToken, { fullName: name, location: '日'.repeat(200) }, [
        'full_name',
        'location',
      ]);
      expect(profile!.fullName).to.equal(name);
      expect(profile!.location).to.equal('日'.repeat(200));
    });

    it('stores nothing when one field of several is refused', async () => {
      const user = await signedInUser({ fullName: 'Before' });
      await expectRpcError(
        updateProfile(user.accessToken, { fullName: 'After', avatarUrl: 'javascript:alert(1)' }, ['full_name', 'avatar_url']),
        status.INVALID_ARGUMENT,
        { fields: ['profile.avatar_url'] },
      );
      const [row] = await sql<{ version: number }>('select version from user_profiles where user_id = $1', [user.user!.id]);
      expect(row.version).to.equal(1);
    });
  });

  describe('preferences', () => {
    it('accepts objects nested 8 levels deep', async () => {
      const user = await signedInUser();
      const preferences = nestedObjects(8);
      const { profile } = await updateProfile(user.accessToken, { preferences }, ['preferences']);
      expect(profile!.preferences).to.deep.equal(preferences);
    });

    it('refuses objects nested 9 levels deep, naming profile.preferences', async () => {
      const user = await signedInUser();
      await expectRpcError(
        updateProfile(user.accessToken, { preferences: nestedObjects(9) }, ['preferences']),
        status.INVALID_ARGUMENT,
        {
          fields: ['profile.preferences'],
        },
      );
    });

    it('refuses lists nested 9 levels deep inside an object', async () => {
      const user = await signedInUser();
      let list: unknown = [1];
      for (let i = 0; i < 8; i++) list = [list];
      await expectRpcError(
        updateProfile(user.accessToken, { preferences: { l: list } }, ['preferences']),
        status.INVALID_ARGUMENT,
        {
          fields: ['profile.preferences'],
        },
      );
    });

    it('refuses a list nested 10,000 deep fast, naming profile.preferences, and keeps serving', async () => {
      const user = await signedInUser();
      const bytes = deeplyNestedPreferencesRequest(10_000);
      expect(bytes.length).to.be.below(128 * 1024); // under the message size limit: the decoder itself must refuse it

      const error = await sendRawUpdateProfile(user.accessToken, bytes);

      expect(error, 'the call must fail').to.not.equal(undefined);
      expect(status[error!.code]).to.equal('INVALID_ARGUMENT');
      const details = decodeDetails(error!);
      expect(details.badRequest?.fieldViolations.map((v) => v.field)).to.deep.equal(['profile.preferences']);
      const { profile } = await updateProfile(user.accessToken, { preferences: { ok: true } }, ['preferences']);
      expect(profile!.preferences).to.deep.equal({ ok: true });
    });

    it('refuses preferences over 16 KiB as JSON made of many small keys', async () => {
      const user = await signedInUser();
      const preferences: Record<string, number> = {};
      for (let i = 0; i < 2000; i++) preferences[`k${i}`] = i;
      await expectRpcError(updateProfile(user.accessToken, { preferences }, ['preferences']), status.INVALID_ARGUMENT, {
        fields: ['profile.preferences'],
      });
    });

    it('refuses a NUL byte in a preferences key, naming its path', async () => {
      const user = await signedInUser();
      const details = await expectRpcError(
        updateProfile(user.accessToken, { preferences: { 'the\u0000me': 'dark' } }, ['preferences']),
        status.INVALID_ARGUMENT,
      );
      expect(details.badRequest!.fieldViolations[0].field).to.match(/^profile\.preferences/);
    });
  });
});
