import type { EntityManager } from '@mikro-orm/postgresql';
import { drawAuditIdsSql } from './audit-log.js';
import { preparedQuery } from './prepared-query.js';
import type { User } from './entities/user.js';

/**
 * The reads and writes of a password sign-in as prepared statements: every
 * Login runs them, and through the ORM (query building, hydration, change
 * sets, identity map) they cost several times the statements themselves.
 */

/** What a password sign-in needs of an account before the password is checked. */
export interface SignInCandidate {
  id: string;
  passwordHash: string | null;
  passwordPepperId: string | null;
  role: User['role'];
  status: User['status'];
  /** Whether the account has a confirmed second factor (TOTP). */
  hasConfirmedTotp: boolean;
}

/** An account as a sign-in answers with it (the fields of a User message), read under a row lock. */
export type SignInUser = Pick<
  User,
  'id' | 'role' | 'status' | 'emailVerifiedAt' | 'createdAt' | 'updatedAt' | 'lastLoginAt' | 'appMetadata' | 'deletedAt'
>;

/** The account with this email blind index, with its hash and whether it has a confirmed factor, or null. */
export async function findSignInCandidate(em: EntityManager, emailIndex: string): Promise<SignInCandidate | null> {
  const [row] = await preparedQuery<{
    id: string;
    password_hash: string | null;
    password_pepper_id: string | null;
    role: User['role'];
    status: User['status'];
    has_totp: boolean;
  }>(
    em,
    'tessera_sign_in_candidate',
    // users first in the text: a statement's span is named for its first table ("SELECT users").
    `select u.id, u.password_hash, u.password_pepper_id, u.role, u.status, f.confirmed_at is not null as has_totp
       from users u left join totp_factors f on f.user_id = u.id
      where u.email_index = $1`,
    [emailIndex],
  );
  if (!row) return null;
  return {
    id: row.id,
    passwordHash: row.password_hash,
    passwordPepperId: row.password_pepper_id,
    role: row.role,
    status: row.status,
    hasConfirmedTotp: row.has_totp,
  };
}

// The ORM's pool hands timestamps back as strings (its own type parsers).
const dateOrNull = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** The account, locked until the transaction ends, or null. Must run inside a transaction. */
export async function lockSignInUser(em: EntityManager, userId: string): Promise<SignInUser | null> {
  const [row] = await preparedQuery<UserColumns>(
    em,
    'tessera_sign_in_lock_user',
    `select ${USER_COLUMNS} from users where id = $1 for update`,
    [userId],
  );
  return row ? toSignInUser(row) : null;
}

const USER_COLUMNS = 'id, role, status, email_verified_at, created_at, updated_at, last_login_at, app_metadata, deleted_at';

interface UserColumns {
  id: string;
  role: User['role'];
  status: User['status'];
  email_verified_at: string | null;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
  app_metadata: Record<string, unknown>;
  deleted_at: string | null;
}

function toSignInUser(row: UserColumns): SignInUser {
  return {
    id: row.id,
    role: row.role,
    status: row.status,
    emailVerifiedAt: dateOrNull(row.email_verified_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    lastLoginAt: dateOrNull(row.last_login_at),
    appMetadata: row.app_metadata,
    deletedAt: dateOrNull(row.deleted_at),
  };
}

/**
 * Stamps a sign-in on an active account (and stores an upgraded hash, if
 * any), bumping its version as an ORM update would, and returns it: one
 * statement, whose update holds the row lock until the
 * transaction ends. Null when the account is gone or no longer active (the
 * caller reads why). Must run inside a transaction.
 */
export async function stampSignIn(
  em: EntityManager,
  userId: string,
  at: Date,
  upgraded?: { hash: string; pepperId: string | null },
): Promise<{ user: SignInUser } | null> {
  const [row] = await preparedQuery<UserColumns>(
    em,
    'tessera_sign_in_stamp',
    `update users set last_login_at = $2, updated_at = $2, version = version + 1,
            password_hash = coalesce($3, password_hash),
            password_pepper_id = case when $3::text is null then password_pepper_id else $4 end
      where id = $1 and status = 'active'
     returning ${USER_COLUMNS}`,
    [userId, at, upgraded?.hash ?? null, upgraded?.pepperId ?? null],
  );
  if (!row) return null;
  return { user: toSignInUser(row) };
}

/** Stores a password's upgraded hash (a sign-in answered with an MFA challenge: no sign-in stamp yet). */
export async function storeUpgradedHash(
  em: EntityManager,
  userId: string,
  upgraded: { hash: string; pepperId: string | null },
): Promise<void> {
  await preparedQuery(
    em,
    'tessera_store_upgraded_hash',
    'update users set password_hash = $2, password_pepper_id = $3, version = version + 1 where id = $1',
    [userId, upgraded.hash, upgraded.pepperId],
  );
}

/** A new session row (sealed columns already sealed). */
export interface NewSession {
  id: string;
  userId: string;
  refreshTokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
  authenticatedAt: Date;
  amr: string[];
  acr: string;
}

/**
 * Inserts a session opened by a sign-in (no rotation yet, not revoked), and
 * draws `auditIds` audit event ids in the same statement (see drawAuditIdsSql).
 */
export async function insertSession(em: EntityManager, s: NewSession, auditIds: number): Promise<string[]> {
  const ids = await preparedQuery<{ id: string }>(
    em,
    'tessera_session_insert',
    `with session as (
       insert into sessions (id, user_id, refresh_token_hash, created_at, expires_at, last_used_at, ip, user_agent,
                             authenticated_at, amr, acr)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11))
     ${drawAuditIdsSql('$12')}`,
    [
      s.id,
      s.userId,
      s.refreshTokenHash,
      s.createdAt,
      s.expiresAt,
      s.lastUsedAt,
      s.ip,
      s.userAgent,
      s.authenticatedAt,
      s.amr,
      s.acr,
      auditIds,
    ],
  );
  return ids.map((row) => row.id);
}
