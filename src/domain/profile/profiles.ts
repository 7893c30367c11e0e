import { isDeepStrictEqual } from 'node:util';
import type { Operation } from '../kernel/operation.js';
import { findProfileRow, LockMode, UserProfile } from '../../db/index.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { callerUserId, readableUserId } from '../kernel/callers.js';
import type { FieldCipher } from '../../crypto/field-cipher.js';
import { openField, sealField } from '../kernel/user-data-keys.js';
import { DomainError, invalidArguments, Violations } from '../kernel/errors.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkUpdateMask } from '../kernel/validation.js';
import { checkAvatarUrl, checkPhoneNumber, checkPreferences, checkProfileText, PROFILE_TEXT_LIMITS } from './profile-fields.js';

/** A profile as the domain hands it out: sensitive fields decrypted. */
export interface ProfileView {
  userId: string;
  fullName: string;
  avatarUrl: string;
  bio: string;
  location: string;
  phoneNumber: string;
  preferences: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  /** The version read, for a later conditional update (see updateOwnProfile). */
  etag: string;
}

/** The fields an update mask may name, in proto (snake_case) form. */
const PROFILE_MASK_PATHS = ['full_name', 'avatar_url', 'bio', 'location', 'phone_number', 'preferences'] as const;
type ProfilePath = (typeof PROFILE_MASK_PATHS)[number];

export type ProfilePatch = Omit<ProfileView, 'userId' | 'createdAt' | 'updatedAt' | 'etag'>;

/**
 * Reads a profile. An empty `userId` means the caller's own; anyone else's
 * needs the "users:read" permission.
 */
export async function getProfile(op: Operation, requestedUserId: string): Promise<ProfileView> {
  const userId = readableUserId(op.principal, requestedUserId, { noUser: 'PROF-001', invalid: 'PROF-002', denied: 'PROF-004' });
  // The profile (one prepared query, off the ORM) and its owner's key (the key store) are read side by side.
  const [profile, cipher] = await Promise.all([findProfileRow(op.em, userId), op.deps.userKeys.cipherOf(op.em, userId)]);
  if (!profile) throw new DomainError('not_found', 'PROF-003', 'no profile for this user', { reason: 'USER_NOT_FOUND' });
  return toView(cipher, userId, profile);
}

/**
 * Changes the caller's profile: only the fields named in `mask`. A masked
 * field with an empty value is cleared. Writes a profile.updated event naming
 * the changed fields, never their values. A non-empty `etag` makes the update
 * conditional: when the profile changed since the read that gave it, nothing
 * is written and the call is ABORTED. The row is locked for the transaction,
 * so of two updates made from the same read exactly one applies.
 */
export async function updateOwnProfile(op: Operation, patch: ProfilePatch, mask: string[], etag = ''): Promise<ProfileView> {
  const userId = callerUserId(op.principal, 'PROF-005');
  const paths = checkMask(mask);
  const values = checkPatch(patch, paths);
  const expectedVersion = checkEtag(etag);

  return inTransaction(op, async (uow) => {
    const profile = await uow.em.findOne(UserProfile, { user: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!profile) throw new DomainError('not_found', 'PROF-006', 'no profile for this user', { reason: 'USER_NOT_FOUND' });
    if (expectedVersion !== undefined && profile.version !== expectedVersion) {
      throw new DomainError('aborted', 'PROF-009', 'the profile changed since it was read; read it again and retry', {
        reason: 'ETAG_MISMATCH',
      });
    }
    const cipher = await op.deps.userKeys.forWriting(uow.em, userId);
    const changed = applyPatch(cipher, profile, userId, values, paths);
    if (changed.length > 0) {
      profile.version += 1;
      profile.updatedAt = op.clock.now();
      uow.record({ type: AuditEventType.profileUpdated, subjectUserId: userId, metadata: { fields: changed } });
    }
    return toView(cipher, userId, profile);
  });
}

/** An etag is "v" and the version it was read at; '' means unconditional. */
const ETAG = /^v([1-9][0-9]{0,9})$/;

function etagOf(profile: { version: number }): string {
  return `v${profile.version}`;
}

function checkEtag(etag: string): number | undefined {
  if (etag === '') return undefined;
  const match = ETAG.exec(etag);
  if (!match) {
    const description = 'must be an etag returned by GetProfile or UpdateProfile';
    throw invalidArguments('PROF-010', [{ field: 'profile.etag', description }]);
  }
  return Number(match[1]);
}

function checkMask(mask: string[]): ProfilePath[] {
  const violations = new Violations();
  const paths = checkUpdateMask(mask, PROFILE_MASK_PATHS, violations);
  violations.throwIfAny('PROF-007');
  return paths;
}

function checkPatch(patch: ProfilePatch, paths: ProfilePath[]): ProfilePatch {
  const v = new Violations();
  const out = { ...patch };
  const masked = new Set(paths);
  if (masked.has('full_name'))
    out.fullName = checkProfileText('profile.full_name', patch.fullName, PROFILE_TEXT_LIMITS.full_name, v);
  if (masked.has('bio')) out.bio = checkProfileText('profile.bio', patch.bio, PROFILE_TEXT_LIMITS.bio, v, { multiline: true });
  if (masked.has('location'))
    out.location = checkProfileText('profile.location', patch.location, PROFILE_TEXT_LIMITS.location, v);
  if (masked.has('avatar_url')) out.avatarUrl = checkAvatarUrl('profile.avatar_url', patch.avatarUrl, v);
  if (masked.has('phone_number')) out.phoneNumber = checkPhoneNumber('profile.phone_number', patch.phoneNumber, v);
  if (masked.has('preferences')) out.preferences = checkPreferences('profile.preferences', patch.preferences ?? {}, v);
  v.throwIfAny('PROF-008');
  return out;
}

/** The profile columns sealed under the user's data key, by patch key. */
const SEALED_COLUMNS = {
  fullName: 'full_name',
  avatarUrl: 'avatar_url',
  bio: 'bio',
  location: 'location',
  phoneNumber: 'phone_number_ciphertext',
} as const;
type SealedKey = keyof typeof SEALED_COLUMNS;

/** The associated data of a sealed profile column: the ciphertext belongs to this column of this user's row. */
function binding(key: SealedKey | 'preferences', userId: string): string {
  return `user_profiles.${key === 'preferences' ? 'preferences' : SEALED_COLUMNS[key]}:${userId}`;
}

/** The stored columns a view is made of: an entity in a transaction, a prepared query's row in GetProfile. */
type StoredProfile = Pick<
  UserProfile,
  'fullName' | 'avatarUrl' | 'bio' | 'location' | 'phoneNumberCiphertext' | 'preferences' | 'createdAt' | 'updatedAt' | 'version'
>;

function readSealed(cipher: FieldCipher | undefined, profile: StoredProfile, key: SealedKey, userId: string): string {
  const stored = key === 'phoneNumber' ? profile.phoneNumberCiphertext : profile[key];
  return openField(cipher, stored, binding(key, userId));
}

function writeSealed(cipher: FieldCipher, profile: UserProfile, key: SealedKey, userId: string, value: string): void {
  const sealed = sealField(cipher, value, binding(key, userId));
  if (key === 'phoneNumber') profile.phoneNumberCiphertext = sealed === '' ? null : sealed;
  else profile[key] = sealed;
}

/** The preferences opened: their JSON sealed as one ciphertext ('' for none). */
function readPreferences(cipher: FieldCipher | undefined, profile: StoredProfile, userId: string): Record<string, unknown> {
  const json = openField(cipher, profile.preferences, binding('preferences', userId));
  return json === '' ? {} : (JSON.parse(json) as Record<string, unknown>);
}

/** The sealed form of `preferences` ('' when there are none). */
export function sealPreferences(cipher: FieldCipher, userId: string, preferences: Record<string, unknown>): string {
  const json = Object.keys(preferences).length === 0 ? '' : JSON.stringify(preferences);
  return sealField(cipher, json, binding('preferences', userId));
}

/** The sealed form of an avatar URL already checked and normalized (checkAvatarUrl). */
export function sealAvatarUrl(cipher: FieldCipher, userId: string, avatarUrl: string): string {
  return sealField(cipher, avatarUrl, binding('avatarUrl', userId));
}

/** The sealed value of a new profile's full name (registration, import). */
export function sealFullName(cipher: FieldCipher, userId: string, fullName: string): string {
  return sealField(cipher, fullName, binding('fullName', userId));
}

const PATH_KEYS = {
  full_name: 'fullName',
  avatar_url: 'avatarUrl',
  bio: 'bio',
  location: 'location',
  phone_number: 'phoneNumber',
} as const satisfies Partial<Record<ProfilePath, SealedKey>>;

/** Applies the masked values and returns the paths whose value really changed. */
function applyPatch(
  cipher: FieldCipher,
  profile: UserProfile,
  userId: string,
  values: ProfilePatch,
  paths: ProfilePath[],
): string[] {
  const changed: string[] = [];
  for (const path of paths) {
    if (path === 'preferences') {
      // Compared structurally: the same preferences may come back with their keys in another order.
      if (!isDeepStrictEqual(readPreferences(cipher, profile, userId), values.preferences)) {
        profile.preferences = sealPreferences(cipher, userId, values.preferences);
        changed.push(path);
      }
    } else {
      const key = PATH_KEYS[path];
      if (readSealed(cipher, profile, key, userId) !== values[key]) {
        writeSealed(cipher, profile, key, userId, values[key]);
        changed.push(path);
      }
    }
  }
  return changed;
}

function toView(cipher: FieldCipher | undefined, userId: string, profile: StoredProfile): ProfileView {
  return {
    userId,
    fullName: readSealed(cipher, profile, 'fullName', userId),
    avatarUrl: readSealed(cipher, profile, 'avatarUrl', userId),
    bio: readSealed(cipher, profile, 'bio', userId),
    location: readSealed(cipher, profile, 'location', userId),
    phoneNumber: readSealed(cipher, profile, 'phoneNumber', userId),
    preferences: readPreferences(cipher, profile, userId),
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt,
    etag: etagOf(profile),
  };
}
