import type { EntityManager } from '@mikro-orm/postgresql';
import { preparedQuery } from './prepared-query.js';

/** What a backend's call needs to know about its service account, read in one query. */
export interface ServiceAccountState {
  id: string;
  name: string;
  role: string;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/**
 * Finds the service account of an API key hash with one indexed query, off
 * the ORM's entity path: this runs on every call a backend makes.
 */
export async function findServiceAccountByKeyHash(em: EntityManager, apiKeyHash: string): Promise<ServiceAccountState | null> {
  return findOne(em, 'tessera_service_account_by_key', 'api_key_hash = $1', apiKeyHash);
}

/**
 * Finds the live service account bound to a client certificate identity (a
 * URI SAN), with one indexed query: this runs on every call a backend makes
 * over mTLS without an API key.
 */
export async function findServiceAccountByCertificateIdentity(
  em: EntityManager,
  identity: string,
): Promise<ServiceAccountState | null> {
  return findOne(em, 'tessera_service_account_by_certificate', 'certificate_identity = $1 and revoked_at is null', identity);
}

/**
 * Reads a service account by id with one primary-key query: long-lived calls
 * re-check their caller with it (revoked key, changed role).
 */
export async function findServiceAccountById(em: EntityManager, id: string): Promise<ServiceAccountState | null> {
  return findOne(em, 'tessera_service_account_by_id', 'id = $1', id);
}

/** One prepared select by a condition with one parameter (statement names are per condition). */
async function findOne(
  em: EntityManager,
  statement: string,
  condition: string,
  value: string,
): Promise<ServiceAccountState | null> {
  const rows = await preparedQuery<{
    id: string;
    name: string;
    role: string;
    revoked_at: Date | null;
    last_used_at: Date | null;
  }>(em, statement, `select id, name, role, revoked_at, last_used_at from service_accounts where ${condition}`, [value]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
  };
}

/** Sets last_used_at to `now` unless another call already did within `granularityMs`. */
export async function touchServiceAccount(em: EntityManager, id: string, now: Date, granularityMs: number): Promise<void> {
  await em
    .getConnection()
    .execute('update service_accounts set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)', [
      now,
      id,
      new Date(now.getTime() - granularityMs),
    ]);
}
