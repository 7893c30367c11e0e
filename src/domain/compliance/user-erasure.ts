import { signErasureReceipt } from '../../crypto/tokens.js';
import {
  ErasureReceipt,
  erasePersonalRows,
  findDeletedUsersBefore,
  lockAccountForErasure,
  lockAdministrators,
  type ErasureCounts,
} from '../../db/index.js';
import { verifyCurrentPassword } from '../auth/password-changes.js';
import { ensureAnotherActiveAdmin } from '../identity/users.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { principalHasPermission } from '../kernel/permissions.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkPresentedPassword, checkUuid } from '../kernel/validation.js';

/** A reason is a code, not free text: nothing personal can slip into the receipt. */
const REASON = /^[a-z0-9_.-]{1,64}$/;

/** The proof of an erasure, as stored and returned. */
export interface ErasureReceiptView {
  userId: string;
  erasedAt: Date;
  /** Compact JWS signed with the token signing key (typ erasure-receipt+jwt). */
  jws: string;
}

/**
 * Erases an account for good: an administrator any account, a person their
 * own with their current password. One transaction deletes the account's
 * rows, writes `user.erased` without personal data and stores a receipt
 * signed with the service's signing key; its last step destroys the data key
 * in the key store (crypto-shredding every copy of the sealed fields).
 */
export async function eraseUser(
  op: Operation,
  input: { userId: string; reason: string; currentPassword: string },
): Promise<ErasureReceiptView> {
  const v = new Violations();
  const userId = checkUuid('user_id', input.userId, v);
  if (!REASON.test(input.reason)) v.add('reason', "must be a code of 1 to 64 characters: a-z, 0-9, '_', '-', '.'");
  const self = op.principal.kind === 'user' && op.principal.userId === userId;
  const password = self ? checkPresentedPassword('current_password', input.currentPassword, v) : '';
  v.throwIfAny('ERASE-001');
  if (!self && !principalHasPermission(op.principal, 'users:write')) {
    throw new DomainError('permission_denied', 'ERASE-002', "erasing another user's account needs an administrator", {
      reason: 'PERMISSION_DENIED',
    });
  }
  // Checked before the transaction: a wrong password is audited in its own.
  if (self) {
    await verifyCurrentPassword(op, { userId, password, operation: 'erase_user' }, 'ERASE-003');
    // The rows go by SQL: no entity loaded by the check may be flushed over them.
    op.em.clear();
  }

  return eraseAccount(op, userId, input.reason, self);
}

/**
 * Erases the soft-deleted accounts whose restore window
 * (USER_DELETE_RETENTION_DAYS) has passed, at most `limit` per call, as the
 * caller (the retention job: the system); returns how many went.
 */
export async function eraseExpiredDeletedUsers(op: Operation, limit: number): Promise<number> {
  const cutoff = new Date(op.clock.now().getTime() - op.deps.userDeleteRetentionDays * 24 * 3600 * 1000);
  const ids = await findDeletedUsersBefore(op.em, cutoff, limit);
  for (const id of ids) await eraseAccount(op, id, 'retention_expired', false);
  return ids.length;
}

async function eraseAccount(op: Operation, userId: string, reason: string, self: boolean): Promise<ErasureReceiptView> {
  return inTransaction(op, async (uow) => {
    const user = await lockAccountForErasure(uow.em, userId);
    if (!user) throw new DomainError('not_found', 'ERASE-004', 'no such user', { reason: 'USER_NOT_FOUND' });
    if (user.role === 'admin') {
      if (!self && !principalHasPermission(op.principal, 'roles:assign')) {
        throw new DomainError('permission_denied', 'ERASE-005', "erasing an administrator's account needs an administrator", {
          reason: 'PERMISSION_DENIED',
        });
      }
      await lockAdministrators(uow.em);
      if (user.status === 'active') await ensureAnotherActiveAdmin(uow, userId, 'ERASE-006');
    }
    const counts: ErasureCounts = {
      ...(await erasePersonalRows(uow.em, userId)),
      data_keys: (await op.deps.userKeys.isHeld(userId)) ? 1 : 0,
    };
    // The key is going: nothing later in this transaction may seal under it.
    op.deps.userKeys.forget(uow.em, userId);
    // Destroyed last, just before the commit, so no receipt is ever committed for a key still held. If the
    // commit then fails, the user's data is already unreadable and a retried erasure completes (destroying nothing).
    uow.lastly(() => op.deps.userKeys.destroy(userId));
    const erasedAt = op.clock.now();
    const requestedBy = requester(op, self);
    const jws = await signReceipt(op, { userId, erasedAt, requestedBy, reason: reason, counts });
    uow.em.create(ErasureReceipt, { userId, erasedAt, jws });
    uow.record({
      type: AuditEventType.userErased,
      subjectUserId: userId,
      metadata: { reason: reason, requested_by: requestedBy, counts },
      withoutClient: true,
    });
    return { userId, erasedAt, jws };
  });
}

/** The stored receipt of an erased account. */
export async function getErasureReceipt(op: Operation, requestedUserId: string): Promise<ErasureReceiptView> {
  const v = new Violations();
  const userId = checkUuid('user_id', requestedUserId, v);
  v.throwIfAny('ERASE-007');
  const receipt = await op.em.findOne(ErasureReceipt, { userId });
  if (!receipt)
    throw new DomainError('not_found', 'ERASE-008', 'no erasure receipt for this user', { reason: 'RECEIPT_NOT_FOUND' });
  return { userId: receipt.userId, erasedAt: receipt.erasedAt, jws: receipt.jws };
}

function requester(op: Operation, self: boolean): { type: string; id: string | null } {
  if (self) return { type: 'user_self', id: null };
  const p = op.principal;
  if (p.kind === 'user') return { type: 'user', id: p.userId };
  if (p.kind === 'service_account') return { type: 'service_account', id: p.serviceAccountId };
  return { type: p.kind, id: null };
}

async function signReceipt(
  op: Operation,
  facts: {
    userId: string;
    erasedAt: Date;
    requestedBy: { type: string; id: string | null };
    reason: string;
    counts: ErasureCounts;
  },
): Promise<string> {
  return signErasureReceipt(
    op.deps.signingKeys.signer(),
    {
      erased_user_id: facts.userId,
      erased_at: facts.erasedAt.toISOString(),
      requested_by: facts.requestedBy,
      reason: facts.reason,
      counts: facts.counts,
    },
    { issuer: op.deps.tokens.issuer, now: facts.erasedAt },
  );
}
