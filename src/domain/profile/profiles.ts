import { isDeepStrictEqual } from 'node:util';
import type { Operation } from '../kernel/operation.js';
import { UserProfile } from '../../db/index.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { callerUserId, readableUserId } from '../kernel/callers.js';
import type { DomainDeps } from '../kernel/operation.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkJson, checkText, checkUpdateMask } from '../kernel/validation.js';

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
}

/** The fields an update mask may name, in proto (snake_case) form. */
const PROFILE_MASK_PATHS = ['full_name', 'avatar_url', 'bio', 'location', 'phone_number', 'preferences'] as const;
type ProfilePath = (typeof PROFILE_MASK_PATHS)[number];

/** Paths whose values are sensitive: audit events name them but never carry their values. */
const LIMITS = { full_name: 200, avatar_url: 2048, bio: 2000, location: 200 } as const;
const PREFERENCES_MAX_BYTES = 16 * 1024;
const E164 = /^\+[1-9][0-9]{6,14}$/;

export type ProfilePatch = Omit<ProfileView, 'userId' | 'createdAt' | 'updatedAt'>;

/**
 * Reads a profile. An empty `userId` means the caller's own; anyone else's
 * needs the "users:read" permission.
 */
export async function getProfile(op: Operation, requestedUserId: string): Promise<ProfileView> {
  const userId = readableUserId(op.principal, requestedUserId, { noUser: 'PROF-001', invalid: 'PROF-002', denied: 'PROF-004' });
  const profile = await op.em.findOne(UserProfile, { user: userId });
  if (!profile) throw new DomainError('not_found', 'PROF-003', 'no profile for this user', { reason: 'USER_NOT_FOUND' });
  return toView(op.deps, profile);
}

/**
 * Changes the caller's profile: only the fields named in `mask`. A masked
 * field with an empty value is cleared. Writes a profile.updated event naming
 * the changed fields, never their values.
 */
export async function updateOwnProfile(op: Operation, patch: ProfilePatch, mask: string[]): Promise<ProfileView> {
  const userId = callerUserId(op.principal, 'PROF-005');
  const paths = checkMask(mask);
  const values = checkPatch(patch, paths);

  return inTransaction(op, async (uow) => {
    const profile = await uow.em.findOne(UserProfile, { user: userId });
    if (!profile) throw new DomainError('not_found', 'PROF-006', 'no profile for this user', { reason: 'USER_NOT_FOUND' });
    const changed = applyPatch(op.deps, profile, userId, values, paths);
    if (changed.length > 0) {
      profile.updatedAt = op.clock.now();
      uow.record({ type: AuditEventType.profileUpdated, subjectUserId: userId, metadata: { fields: changed } });
    }
    return toView(op.deps, profile);
  });
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
  if (masked.has('full_name')) out.fullName = checkText('profile.full_name', patch.fullName, LIMITS.full_name, v);
  if (masked.has('bio')) out.bio = checkText('profile.bio', patch.bio, LIMITS.bio, v, { multiline: true });
  if (masked.has('location')) out.location = checkText('profile.location', patch.location, LIMITS.location, v);
  if (masked.has('avatar_url')) {
    out.avatarUrl = checkText('profile.avatar_url', patch.avatarUrl, LIMITS.avatar_url, v);
    if (out.avatarUrl !== '' && !isHttpsUrl(out.avatarUrl)) v.add('profile.avatar_url', 'must be an https URL');
  }
  if (masked.has('phone_number')) {
    out.phoneNumber = patch.phoneNumber.replace(/[\s()-]/g, '');
    if (out.phoneNumber !== '' && !E164.test(out.phoneNumber)) {
      v.add('profile.phone_number', 'must be an E.164 number such as +351912345678');
    }
  }
  if (masked.has('preferences')) {
    out.preferences = patch.preferences ?? {};
    const wellFormed = checkJson('profile.preferences', out.preferences, v);
    if (wellFormed && Buffer.byteLength(JSON.stringify(out.preferences)) > PREFERENCES_MAX_BYTES) {
      v.add('profile.preferences', `must be at most ${PREFERENCES_MAX_BYTES} bytes as JSON`);
    }
  }
  v.throwIfAny('PROF-008');
  return out;
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Applies the masked values and returns the paths whose value really changed. */
function applyPatch(
  deps: DomainDeps,
  profile: UserProfile,
  userId: string,
  values: ProfilePatch,
  paths: ProfilePath[],
): string[] {
  const changed: string[] = [];
  const set = <K extends 'fullName' | 'avatarUrl' | 'bio' | 'location'>(path: ProfilePath, key: K) => {
    if (profile[key] !== values[key]) {
      profile[key] = values[key];
      changed.push(path);
    }
  };
  for (const path of paths) {
    if (path === 'full_name') set(path, 'fullName');
    else if (path === 'avatar_url') set(path, 'avatarUrl');
    else if (path === 'bio') set(path, 'bio');
    else if (path === 'location') set(path, 'location');
    else if (path === 'phone_number') {
      if (decryptPhone(deps, profile, userId) !== values.phoneNumber) {
        profile.phoneNumberCiphertext = values.phoneNumber === '' ? null : deps.profileBox.seal(values.phoneNumber, userId);
        changed.push(path);
      }
    } else if (path === 'preferences') {
      // jsonb does not keep key order, so compare structurally rather than as JSON text.
      if (!isDeepStrictEqual(profile.preferences ?? {}, values.preferences)) {
        profile.preferences = values.preferences;
        changed.push(path);
      }
    }
  }
  return changed;
}

function decryptPhone(deps: DomainDeps, profile: UserProfile, userId: string): string {
  return profile.phoneNumberCiphertext ? deps.profileBox.open(profile.phoneNumberCiphertext, userId) : '';
}

function toView(deps: DomainDeps, profile: UserProfile): ProfileView {
  const userId = profile.user.id;
  return {
    userId,
    fullName: profile.fullName,
    avatarUrl: profile.avatarUrl,
    bio: profile.bio,
    location: profile.location,
    phoneNumber: decryptPhone(deps, profile, userId),
    preferences: profile.preferences ?? {},
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt,
  };
}
