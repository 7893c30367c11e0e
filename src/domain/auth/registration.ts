import { v7 as uuidv7 } from 'uuid';
import type { Operation } from '../kernel/operation.js';
import { isUniqueViolation, User, UserProfile, type UserRole } from '../../db/index.js';
import { sealFullName } from '../profile/profiles.js';
import type { StoredPassword } from '../../crypto/passwords.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { limitCallsFromClient } from '../kernel/rate-limit-checks.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkEmail, checkNewPassword, checkText } from '../kernel/validation.js';
import { sealUserEmail } from '../kernel/user-email.js';

export const FULL_NAME_MAX_LENGTH = 200;

export interface RegistrationInput {
  email: string;
  password: string;
  fullName: string;
}

/**
 * Creates an account with a password, and its profile, in one transaction.
 * Counted per client address (RATE_LIMIT_REGISTER_PER_IP).
 *
 * Uniqueness is left to the database's unique index on the email's blind index:
 * a prior SELECT would let two racing registrations both pass.
 */
export async function registerUser(op: Operation, input: RegistrationInput): Promise<User> {
  // Before any work: each registration costs a full password hash.
  await limitCallsFromClient(op, 'register', 'LIMIT-010');
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkNewPassword('password', input.password, violations, email);
  const fullName = checkText('full_name', input.fullName, FULL_NAME_MAX_LENGTH, violations);
  violations.throwIfAny('ACCT-001');

  return createAccount(op, { email, password, fullName, role: 'user', emailVerified: false });
}

interface NewAccount {
  email: string;
  password: string;
  fullName: string;
  role: UserRole;
  emailVerified: boolean;
}

async function createAccount(op: Operation, account: NewAccount): Promise<User> {
  // Hash before the transaction opens: it is the slow part and needs no lock.
  const password = await op.deps.passwords.hash(account.password, op.signal);
  try {
    return await inTransaction(op, async (uow) => {
      const user = await insertAccount(uow, { ...account, password });
      const type = account.role === 'admin' ? AuditEventType.userBootstrapped : AuditEventType.userRegistered;
      // Self-registration: the new user is its own actor; otherwise the admin, CLI or system is.
      const actor = op.principal.kind === 'anonymous' ? { type: 'user' as const, id: user.id } : undefined;
      uow.record({ type, subjectUserId: user.id, actor, metadata: { role: account.role } });
      return user;
    });
  } catch (err) {
    throw emailTakenOr(err, 'ACCT-002');
  }
}

/**
 * Inserts an active account and its empty profile, flushed so that events
 * can name it. `passwordHash` is null for accounts that sign in only through
 * a provider. A taken email surfaces at commit (see emailTakenOr).
 */
export async function insertAccount(
  uow: UnitOfWork,
  account: { email: string; password: StoredPassword | null; fullName: string; role: UserRole; emailVerified: boolean },
): Promise<User> {
  const now = uow.clock.now();
  const id = uuidv7();
  // A fresh id has no key yet: create it without looking (the sealing below then finds it in the transaction).
  await uow.deps.userKeys.forNewUser(uow.em, id);
  const user = uow.em.create(User, {
    id,
    // The unique blind index makes one account per address, whatever races.
    ...(await sealUserEmail(uow, id, account.email)),
    emailVerifiedAt: account.emailVerified ? now : null,
    passwordHash: account.password?.hash ?? null,
    passwordPepperId: account.password?.pepperId ?? null,
    role: account.role,
    status: 'active',
    lastLoginAt: null,
    createdAt: now,
    updatedAt: now,
    suspendedAt: null,
    deletedAt: null,
    appMetadata: {},
  });
  const fullName =
    account.fullName === '' ? '' : sealFullName(await uow.deps.userKeys.forWriting(uow.em, user.id), user.id, account.fullName);
  uow.em.create(UserProfile, { user, fullName, createdAt: now, updatedAt: now });
  // The user's row must exist before its events name it.
  await uow.em.flush();
  return user;
}

/** ALREADY_EXISTS (EMAIL_TAKEN) for a violation of the unique email index; any other error unchanged. */
export function emailTakenOr(err: unknown, id: string): unknown {
  if (isUniqueViolation(err, 'user_email')) {
    return new DomainError('already_exists', id, 'an account with this email already exists', {
      reason: 'EMAIL_TAKEN',
      cause: err,
    });
  }
  return err;
}

/**
 * Creates an administrator. Used by the bootstrap at start-up and by
 * `tessera create-admin`; a taken email fails with EMAIL_TAKEN.
 */
export async function createAdmin(op: Operation, input: { email: string; password: string }): Promise<User> {
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkNewPassword('password', input.password, violations, email);
  violations.throwIfAny('ACCT-003');
  return createAccount(op, { email, password, fullName: '', role: 'admin', emailVerified: true });
}

/** Creates the configured first administrator unless an administrator already exists. */
export async function ensureBootstrapAdmin(op: Operation, admin: { email: string; password: string }): Promise<User | null> {
  if ((await op.em.count(User, { role: 'admin' })) > 0) return null;
  try {
    return await createAdmin(op, admin);
  } catch (err) {
    // Another instance bootstrapped the same admin at the same moment.
    if (err instanceof DomainError && err.reason === 'EMAIL_TAKEN') return null;
    throw err;
  }
}
