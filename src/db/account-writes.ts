import type { EntityManager } from '@mikro-orm/postgresql';
import { drawAuditIdsSql } from './audit-log.js';
import type { User } from './entities/user.js';
import { preparedQuery } from './prepared-query.js';

/**
 * A new account's rows as one prepared statement: every Register writes them,
 * and through the ORM (change sets, identity map, two inserts returning their
 * defaults) they cost several times the statement itself.
 */

/** A new active account with its profile (sealed columns already sealed). */
export interface NewAccountRow {
  id: string;
  emailIndex: string;
  emailCiphertext: string;
  emailVerifiedAt: Date | null;
  passwordHash: string | null;
  passwordPepperId: string | null;
  role: User['role'];
  createdAt: Date;
  /** The profile's full name, sealed ('' when none). */
  fullName: string;
}

/** An account as its User message shows it. */
export type AccountFields = Pick<
  User,
  'id' | 'role' | 'status' | 'emailVerifiedAt' | 'createdAt' | 'updatedAt' | 'lastLoginAt' | 'appMetadata' | 'deletedAt'
>;

/**
 * Inserts an active account and its profile, and draws `auditIds` audit event
 * ids in the same statement (see drawAuditIdsSql). Must run inside a
 * transaction. A taken email fails with the ORM's unique violation (see
 * unique-violations.ts), as the ORM's insert would.
 */
export async function insertAccountRows(em: EntityManager, row: NewAccountRow, auditIds: number): Promise<string[]> {
  try {
    const ids = await preparedQuery<{ id: string }>(
      em,
      'tessera_account_insert',
      // users first in the text: the statement's span is named for it ("INSERT users").
      `with account as (
         insert into users (id, email_index, email_ciphertext, email_verified_at, password_hash, password_pepper_id, role,
                            status, created_at, updated_at, app_metadata, version)
         values ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8, '{}', 1)
         returning id),
       profile as (
         insert into user_profiles (user_id, full_name, created_at, updated_at) select id, $9, $8, $8 from account)
       ${drawAuditIdsSql('$10')}`,
      [
        row.id,
        row.emailIndex,
        row.emailCiphertext,
        row.emailVerifiedAt,
        row.passwordHash,
        row.passwordPepperId,
        row.role,
        row.createdAt,
        row.fullName,
        auditIds,
      ],
    );
    return ids.map((r) => r.id);
  } catch (err) {
    // The ORM's exception classes, so callers tell a taken email from other failures the same way on both paths.
    throw err instanceof Error ? em.getDriver().convertException(err) : err;
  }
}

/** The fields of an account `insertAccountRows` just created, as the database holds them. */
export function insertedAccount(row: NewAccountRow): AccountFields {
  return {
    id: row.id,
    role: row.role,
    status: 'active',
    emailVerifiedAt: row.emailVerifiedAt,
    createdAt: row.createdAt,
    updatedAt: row.createdAt,
    lastLoginAt: null,
    appMetadata: {},
    deletedAt: null,
  };
}
