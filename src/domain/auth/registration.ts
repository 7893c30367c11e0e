import { v7 as uuidv7 } from 'uuid';
import type { Operation } from '../kernel/operation.js';
import {
  insertAccountRows,
  insertedAccount,
  isUniqueViolation,
  User,
  UserProfile,
  type AccountFields,
  type NewAccountRow,
  type UserRole,
} from '../../db/index.js';
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
export async function registerUser(op: Operation, input: RegistrationInput): Promise<AccountFields> {
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

async function createAccount(op: Operation, account: NewAccount): Promise<AccountFields> {
  // Hash before the transaction opens: it is the slow part and needs no lock.
  const password = await op.deps.passwords.hash(account.password, op.signal);
  try {
    return await inTransaction(op, async (uow) => {
      const row = await newAccountRow(uow, { ...account, password });
      const type = account.role === 'admin' ? AuditEventType.userBootstrapped : AuditEventType.userRegistered;
      // Self-registration: the new user is its own actor; otherwise the admin, CLI or system is.
      const actor = op.principal.kind === 'anonymous' ? { type: 'user' as const, id: row.id } : undefined;
      uow.record({ type, subjectUserId: row.id, actor, metadata: { role: account.role } });
      // One statement writes the account and its profile and draws the event's id (a taken email fails here).
      await uow.writeDrawingAuditIds((count) => insertAccountRows(uow.em, row, count));
      return insertedAccount(row);
    });
  } catch (err) {
    throw emailTakenOr(err, 'ACCT-002');
  }
}

/** A new account's data, as a NewAccount gives it, before it is stored. */
interface AccountData {
  email: string;
  password: StoredPassword | null;
  fullName: string;
  role: UserRole;
  emailVerified: boolean;
}

/**
 * The rows of a new active account and its profile: a fresh id, its data key
 * created (in the transaction), the email and full name sealed under it.
 * `password` is null for accounts that sign in only through a provider.
 */
async function newAccountRow(uow: UnitOfWork, account: AccountData): Promise<NewAccountRow> {
  const now = uow.clock.now();
  const id = uuidv7();
  // A fresh id has no key yet: create it without looking (the sealing below then finds it in the transaction).
  const cipher = await uow.deps.userKeys.forNewUser(uow.em, id);
  return {
    id,
    // The unique blind index makes one account per address, whatever races.
    ...(await sealUserEmail(uow, id, account.email)),
    emailVerifiedAt: account.emailVerified ? now : null,
    passwordHash: account.password?.hash ?? null,
    passwordPepperId: account.password?.pepperId ?? null,
    role: account.role,
    createdAt: now,
    fullName: account.fullName === '' ? '' : sealFullName(cipher, id, account.fullName),
  };
}

/**
 * Inserts an account through the unit of work, as an entity the rest of the
 * transaction can link to (a provider's first sign-in), flushed so that
 * events can name it. A taken email surfaces here or at commit (see emailTakenOr).
 */
export async function insertAccount(uow: UnitOfWork, account: AccountData): Promise<User> {
  const { fullName, ...row } = await newAccountRow(uow, account);
  const user = uow.em.create(User, {
    ...row,
    status: 'active',
    lastLoginAt: null,
    updatedAt: row.createdAt,
    suspendedAt: null,
    deletedAt: null,
    appMetadata: {},
  });
  uow.em.create(UserProfile, { user, fullName, createdAt: row.createdAt, updatedAt: row.createdAt });
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
export async function createAdmin(op: Operation, input: { email: string; password: string }): Promise<AccountFields> {
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkNewPassword('password', input.password, violations, email);
  violations.throwIfAny('ACCT-003');
  return createAccount(op, { email, password, fullName: '', role: 'admin', emailVerified: true });
}

/** Creates the configured first administrator unless an administrator already exists. */
export async function ensureBootstrapAdmin(
  op: Operation,
  admin: { email: string; password: string },
): Promise<AccountFields | null> {
  if ((await op.em.count(User, { role: 'admin' })) > 0) return null;
  try {
    return await createAdmin(op, admin);
  } catch (err) {
    // Another instance bootstrapped the same admin at the same moment.
    if (err instanceof DomainError && err.reason === 'EMAIL_TAKEN') return null;
    throw err;
  }
}
