import { endUserAccess } from '../auth/access-revocation.js';
import { Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkUuid } from '../kernel/validation.js';
import { lockTargetUser } from './users.js';

const TARGET_IDS = { notFound: 'USES-002', self: 'USES-003', adminTarget: 'USES-004' };

/**
 * Signs a user out everywhere, for an administrator or a backend (ASVS
 * 7.4.5): every session and pending one-time link of the account ends, in
 * one transaction with the sessions.revoked_all event backends follow.
 * An administrator's sessions are ended only by an administrator. Returns
 * how many sessions ended.
 */
export async function revokeUserSessions(op: Operation, rawUserId: string): Promise<number> {
  const violations = new Violations();
  if (rawUserId === '') violations.add('user_id', 'is required');
  else checkUuid('user_id', rawUserId, violations);
  violations.throwIfAny('USES-001');
  return inTransaction(op, async (uow) => {
    const user = await lockTargetUser(uow, rawUserId.toLowerCase(), { forbidSelf: false, ids: TARGET_IDS });
    return endUserAccess(uow, user.id, { cause: 'revoked_by_admin' });
  });
}
