import { deleteSecondFactors } from '../../db/index.js';
import { endUserAccess } from '../auth/access-revocation.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkUuid } from '../kernel/validation.js';
import { lockTargetUser } from './users.js';

const TARGET_IDS = { notFound: 'MFAR-002', self: 'MFAR-003', adminTarget: 'MFAR-004' };

/**
 * Removes a user's second factors for an administrator, when the user lost
 * them: the authenticator, its recovery codes and pending challenges go, and
 * every session ends (whoever holds one may be the reason for the reset),
 * in one transaction with mfa.reset. Resetting one's own factors is refused:
 * that is DisableTotp, which needs a code.
 */
export async function resetUserMfa(op: Operation, rawUserId: string): Promise<{ totpRemoved: boolean; sessionsRevoked: number }> {
  const violations = new Violations();
  if (rawUserId === '') violations.add('user_id', 'is required');
  else checkUuid('user_id', rawUserId, violations);
  violations.throwIfAny('MFAR-001');
  return inTransaction(op, async (uow) => {
    const user = await lockTargetUser(uow, rawUserId.toLowerCase(), { forbidSelf: true, ids: TARGET_IDS });
    const removed = await deleteSecondFactors(uow.em, user.id);
    uow.record({
      type: AuditEventType.mfaReset,
      subjectUserId: user.id,
      metadata: { totp_removed: removed.totp, recovery_codes_removed: removed.recoveryCodes },
    });
    const sessionsRevoked = await endUserAccess(uow, user.id, { cause: 'mfa_reset' });
    return { totpRemoved: removed.totp, sessionsRevoked };
  });
}
