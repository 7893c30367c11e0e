import { v7 as uuidv7 } from 'uuid';
import { User, UserProfile } from '../../db/index.js';
import { sealFullName } from '../profile/profiles.js';
import type { Operation } from '../kernel/operation.js';
import { passwordSchemeOf } from '../../crypto/legacy-hashes.js';
import { NO_PEPPER } from '../../crypto/passwords.js';
import { FULL_NAME_MAX_LENGTH } from './registration.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { Violations } from '../kernel/errors.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkEmail, checkText } from '../kernel/validation.js';
import { sealUserEmail } from '../kernel/user-email.js';

/** One line of an import file, parsed as JSON. */
export interface ImportLine {
  line: number;
  record: unknown;
}

/** What a batch did; `problems` name the line and the field, never a hash. */
export interface ImportOutcome {
  imported: number;
  /** Lines whose address already has an account (or appeared earlier in the file). */
  skipped: number;
  problems: { line: number; problem: string }[];
}

interface ValidRecord {
  line: number;
  email: string;
  passwordHash: string;
  fullName: string;
  emailVerified: boolean;
}

/**
 * Imports users with the password hashes of another system (bcrypt, argon2 or
 * PBKDF2; see crypto/legacy-hashes.ts), one transaction per batch with a
 * user.imported event each. They sign in with their old password and are
 * rehashed to argon2id then. Lines with an address that already has an
 * account are skipped; invalid lines are reported and the rest imported.
 *
 * A line: {"email": "...", "password_hash": "...", "full_name"?: "...", "email_verified"?: true}
 */
export async function importUsers(op: Operation, batch: ImportLine[]): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { imported: 0, skipped: 0, problems: [] };
  const valid: ValidRecord[] = [];
  for (const { line, record } of batch) {
    const checked = checkRecord(record);
    if (typeof checked === 'string') outcome.problems.push({ line, problem: checked });
    else valid.push({ line, ...checked });
  }
  const indexOf = (r: ValidRecord) => op.deps.emailIndex.of(r.email);
  const taken = new Set(
    (await op.em.find(User, { emailIndex: { $in: valid.map(indexOf) } }, { fields: ['emailIndex'] })).map((u) => u.emailIndex),
  );
  const fresh = valid.filter((r) => {
    if (taken.has(indexOf(r))) return false;
    taken.add(indexOf(r));
    return true;
  });
  outcome.skipped = valid.length - fresh.length;
  if (fresh.length === 0) return outcome;

  await inTransaction(op, async (uow) => {
    const now = op.clock.now();
    const users = [];
    for (const r of fresh) {
      const scheme = passwordSchemeOf(r.passwordHash);
      const id = uuidv7();
      const user = uow.em.create(User, {
        id,
        // Every account has an address to seal, so every imported user gets a data key.
        ...(await sealUserEmail(uow, id, r.email)),
        emailVerifiedAt: r.emailVerified ? now : null,
        passwordHash: r.passwordHash,
        // Foreign argon2 hashes were made without our pepper; bcrypt and PBKDF2 have none.
        passwordPepperId: scheme === 'argon2' ? NO_PEPPER : null,
        role: 'user',
        status: 'active',
        lastLoginAt: null,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      });
      users.push({ user, scheme, fullName: r.fullName });
    }
    for (const { user, fullName } of users) {
      const sealed = fullName === '' ? '' : sealFullName(await op.deps.userKeys.forWriting(uow.em, user.id), user.id, fullName);
      uow.em.create(UserProfile, { user, fullName: sealed, createdAt: now, updatedAt: now });
    }
    await uow.em.flush();
    for (const { user, scheme } of users) {
      uow.record({ type: AuditEventType.userImported, subjectUserId: user.id, metadata: { hash_scheme: scheme } });
    }
  });
  outcome.imported = fresh.length;
  return outcome;
}

/** A valid record, or what is wrong with it. */
function checkRecord(record: unknown): Omit<ValidRecord, 'line'> | string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a JSON object';
  const r = record as Record<string, unknown>;
  const violations = new Violations();
  const email = checkEmail('email', typeof r.email === 'string' ? r.email : '', violations);
  const fullName = checkText('full_name', typeof r.full_name === 'string' ? r.full_name : '', FULL_NAME_MAX_LENGTH, violations);
  if (!violations.isEmpty) return 'email or full_name is missing or invalid';
  const passwordHash = typeof r.password_hash === 'string' ? r.password_hash : '';
  if (!passwordSchemeOf(passwordHash)) return 'password_hash is missing or not a supported bcrypt, argon2 or PBKDF2 hash';
  if (r.email_verified !== undefined && typeof r.email_verified !== 'boolean') return 'email_verified must be true or false';
  return { email, passwordHash, fullName, emailVerified: r.email_verified === true };
}
