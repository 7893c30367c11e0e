import { findServiceAccountByCertificateIdentity, touchServiceAccount, USER_ROLES, type UserRole } from '../../db/index.js';
import { DomainError } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import type { Principal } from '../kernel/principal.js';

/** As for API keys: last_used_at moves at most once a minute, so busy backends do not write on every call. */
const LAST_USED_GRANULARITY_MS = 60_000;

/** The longest certificate identity a service account may be bound to. */
export const CERTIFICATE_IDENTITY_MAX_LENGTH = 2048;

/**
 * The service account bound to one of a client certificate's identities (its
 * URI SANs). The transport has already verified the certificate against the
 * client CA; this only maps the identity. A certificate naming no bound
 * account (or more than one) is refused.
 */
export async function authenticateClientCertificate(op: Operation, identities: string[]): Promise<Principal> {
  const unknown = (id: string) =>
    new DomainError('unauthenticated', id, 'the client certificate is not bound to a service account', {
      reason: 'UNKNOWN_CLIENT_CERTIFICATE',
    });
  const candidates = identities.filter((i) => i.length <= CERTIFICATE_IDENTITY_MAX_LENGTH);
  const found = (await Promise.all(candidates.map((i) => findServiceAccountByCertificateIdentity(op.em, i)))).filter(
    (a) => a !== null,
  );
  if (found.length !== 1) throw unknown(found.length === 0 ? 'AUTHN-020' : 'AUTHN-021');
  const account = found[0]!;
  if (!(USER_ROLES as readonly string[]).includes(account.role)) throw unknown('AUTHN-022');
  const now = op.clock.now();
  if (!account.lastUsedAt || now.getTime() - account.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    await touchServiceAccount(op.em, account.id, now, LAST_USED_GRANULARITY_MS);
  }
  return { kind: 'service_account', serviceAccountId: account.id, name: account.name, role: account.role as UserRole };
}
