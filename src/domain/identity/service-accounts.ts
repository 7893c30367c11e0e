import { v7 as uuidv7 } from 'uuid';
import type { Operation } from '../kernel/operation.js';
import { findServiceAccountPage, isUniqueViolation, ServiceAccount } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { API_KEY_PREFIX } from '../auth/authentication.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { checkPageSize, decodePageToken, queryFingerprint, toPage } from '../kernel/page-token.js';
import { roleWithinPrincipal } from '../kernel/permissions.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkUuid } from '../kernel/validation.js';
import { CERTIFICATE_IDENTITY_MAX_LENGTH } from '../auth/certificate-authentication.js';

/** Roles a service account may have: it acts for a backend, never as an end user. */
const SERVICE_ACCOUNT_ROLES = ['service', 'auditor', 'admin'] as const;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Characters of the key kept for display: the prefix and 8 more (48 of its 256 bits). */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

export interface CreatedServiceAccount {
  serviceAccount: ServiceAccount;
  /** Returned once, never stored: only its SHA-256 hash is. */
  apiKey: string;
}

/**
 * Creates a service account and its API key. The role may not grant more
 * than the caller's own. A live account with the same name fails with
 * ALREADY_EXISTS.
 */
export async function createServiceAccount(
  op: Operation,
  input: { name: string; role: string; certificateIdentity?: string },
): Promise<CreatedServiceAccount> {
  const violations = new Violations();
  const name = input.name.trim();
  if (!NAME.test(name)) {
    violations.add('name', 'must be 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  // '' is ROLE_UNSPECIFIED: a backend's account gets the service role.
  const role = SERVICE_ACCOUNT_ROLES.find((r) => r === (input.role || 'service'));
  if (!role) violations.add('role', 'must be ROLE_SERVICE, ROLE_AUDITOR or ROLE_ADMIN (or unset for ROLE_SERVICE)');
  const certificateIdentity = checkCertificateIdentity(input.certificateIdentity ?? '', violations);
  violations.throwIfAny('SVC-001');
  if (!roleWithinPrincipal(role!, op.principal)) {
    throw new DomainError('permission_denied', 'SVC-002', 'a service account cannot get a role that grants more than yours', {
      reason: 'ROLE_TOO_HIGH',
    });
  }

  const apiKey = generateOpaqueSecret(API_KEY_PREFIX);
  try {
    return await inTransaction(op, async (uow) => {
      const serviceAccount = uow.em.create(ServiceAccount, {
        id: uuidv7(),
        name,
        role: role!,
        apiKeyHash: hashBearerSecret(apiKey),
        apiKeyPrefix: apiKey.slice(0, DISPLAY_PREFIX_LENGTH),
        createdAt: op.clock.now(),
        lastUsedAt: null,
        revokedAt: null,
        certificateIdentity,
      });
      uow.record({
        type: AuditEventType.serviceAccountCreated,
        metadata: {
          service_account_id: serviceAccount.id,
          name,
          role,
          api_key_prefix: serviceAccount.apiKeyPrefix,
          ...(certificateIdentity ? { certificate_identity: certificateIdentity } : {}),
        },
      });
      return { serviceAccount, apiKey };
    });
  } catch (err) {
    if (isUniqueViolation(err, 'service_account_live_name')) {
      throw new DomainError('already_exists', 'SVC-003', 'a service account with this name exists', {
        reason: 'SERVICE_ACCOUNT_NAME_TAKEN',
        cause: err,
      });
    }
    if (isUniqueViolation(err, 'service_account_certificate_identity')) {
      throw new DomainError('already_exists', 'SVC-004', 'another service account is bound to this certificate identity', {
        reason: 'CERTIFICATE_IDENTITY_TAKEN',
        cause: err,
      });
    }
    throw err;
  }
}

/** An absolute URI (a certificate's URI SAN, e.g. spiffe://example.org/billing), or '' for none. */
function checkCertificateIdentity(raw: string, violations: Violations): string | null {
  const identity = raw.trim();
  if (identity === '') return null;
  const wellFormed =
    identity.length <= CERTIFICATE_IDENTITY_MAX_LENGTH &&
    /^[a-z][a-z0-9+.-]*:[^\s,"]+$/i.test(identity) &&
    URL.canParse(identity);
  if (!wellFormed) {
    violations.add(
      'certificate_identity',
      `must be an absolute URI such as spiffe://example.org/billing (no spaces, commas or quotes, at most ${CERTIFICATE_IDENTITY_MAX_LENGTH} characters)`,
    );
  }
  return identity;
}

/** A page of live service accounts, oldest first. */
export async function listServiceAccounts(
  op: Operation,
  input: { pageSize: number; pageToken: string },
): Promise<{ serviceAccounts: ServiceAccount[]; nextPageToken: string }> {
  const violations = new Violations();
  const pageSize = checkPageSize(input.pageSize, violations);
  violations.throwIfAny('SVC-010');
  const fingerprint = queryFingerprint('service_accounts');
  const after = decodePageToken(input.pageToken, fingerprint, 'SVC-011');
  const rows = await findServiceAccountPage(op.em, after, pageSize + 1);
  const { items, nextPageToken } = toPage(rows, pageSize, fingerprint);
  return { serviceAccounts: items, nextPageToken };
}

/** Revokes a service account: its key fails from the next call on. */
export async function deleteServiceAccount(op: Operation, rawId: string): Promise<void> {
  const violations = new Violations();
  const id = rawId === '' ? '' : checkUuid('service_account_id', rawId, violations);
  if (rawId === '') violations.add('service_account_id', 'is required');
  violations.throwIfAny('SVC-020');
  await inTransaction(op, async (uow) => {
    const account = await uow.em.findOne(ServiceAccount, { id, revokedAt: null });
    if (!account) {
      throw new DomainError('not_found', 'SVC-021', 'no live service account with this id', {
        reason: 'SERVICE_ACCOUNT_NOT_FOUND',
      });
    }
    account.revokedAt = op.clock.now();
    uow.record({
      type: AuditEventType.serviceAccountDeleted,
      metadata: { service_account_id: account.id, name: account.name, role: account.role, api_key_prefix: account.apiKeyPrefix },
    });
  });
}
