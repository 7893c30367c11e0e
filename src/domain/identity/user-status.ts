import { lockAdministrators, type User } from '../../db/index.js';
import type { Operation } from '../kernel/operation.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { endUserAccess } from '../auth/access-revocation.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { ensureAnotherActiveAdmin, lockTargetUser, type TargetErrorIds } from './users.js';
import { checkText, checkUuid } from '../kernel/validation.js';

const SUSPENSION_REASON_MAX_LENGTH = 500;
const DAY_MS = 24 * 3600 * 1000;

const precondition = (id: string, reason: string, message: string) =>
  new DomainError('failed_precondition', id, message, { reason });

/**
 * Suspends an active account: sign-in is refused and its sessions and
 * pending links end, so its access tokens fail on their next call.
 */
export async function suspendUser(op: Operation, input: { userId: string; reason: string }): Promise<User> {
  const violations = new Violations();
  const reason = checkText('reason', input.reason, SUSPENSION_REASON_MAX_LENGTH, violations);
  return changeStatus(
    op,
    input.userId,
    violations,
    { invalid: 'STAT-001', notFound: 'STAT-002', self: 'STAT-003', adminTarget: 'STAT-004' },
    async (uow, user) => {
      if (user.status !== 'active')
        throw precondition('STAT-005', 'USER_NOT_ACTIVE', `only an active account can be suspended; this one is ${user.status}`);
      if (user.role === 'admin') await ensureAnotherActiveAdmin(uow, user.id, 'STAT-006');
      user.status = 'suspended';
      user.suspendedAt = op.clock.now();
      uow.record({ type: AuditEventType.userSuspended, subjectUserId: user.id, metadata: { reason } });
      await endUserAccess(uow, user.id, { cause: 'user_suspended' });
    },
  );
}

/** Lets a suspended account sign in again. Sessions revoked by the suspension stay revoked. */
export async function reactivateUser(op: Operation, userId: string): Promise<User> {
  return changeStatus(
    op,
    userId,
    new Violations(),
    { invalid: 'STAT-011', notFound: 'STAT-012', self: 'STAT-013', adminTarget: 'STAT-014' },
    async (uow, user) => {
      if (user.status !== 'suspended')
        throw precondition(
          'STAT-015',
          'USER_NOT_SUSPENDED',
          `only a suspended account can be reactivated; this one is ${user.status}`,
        );
      user.status = 'active';
      user.suspendedAt = null;
      uow.record({ type: AuditEventType.userReactivated, subjectUserId: user.id });
    },
  );
}

/**
 * Soft-deletes an account (AIP-164): status deleted, deleted_at set, sessions
 * and pending links ended. Everything else stays, so UndeleteUser can restore it within the
 * retention window.
 */
export async function deleteUser(op: Operation, userId: string): Promise<User> {
  return changeStatus(
    op,
    userId,
    new Violations(),
    { invalid: 'STAT-021', notFound: 'STAT-022', self: 'STAT-023', adminTarget: 'STAT-024' },
    async (uow, user) => {
      if (user.status === 'deleted') throw precondition('STAT-025', 'USER_ALREADY_DELETED', 'the account is already deleted');
      if (user.role === 'admin' && user.status === 'active') await ensureAnotherActiveAdmin(uow, user.id, 'STAT-026');
      const previous = user.status;
      user.status = 'deleted';
      user.deletedAt = op.clock.now();
      uow.record({ type: AuditEventType.userDeleted, subjectUserId: user.id, metadata: { previous_status: previous } });
      await endUserAccess(uow, user.id, { cause: 'user_deleted' });
    },
  );
}

/**
 * Restores a soft-deleted account to the status it had (a suspension
 * survives deletion), if the retention window has not passed.
 */
export async function undeleteUser(op: Operation, userId: string): Promise<User> {
  return changeStatus(
    op,
    userId,
    new Violations(),
    { invalid: 'STAT-031', notFound: 'STAT-032', self: 'STAT-033', adminTarget: 'STAT-034' },
    async (uow, user) => {
      if (user.status !== 'deleted')
        throw precondition('STAT-035', 'USER_NOT_DELETED', `only a deleted account can be undeleted; this one is ${user.status}`);
      const expiresAt = user.deletedAt!.getTime() + op.deps.userDeleteRetentionDays * DAY_MS;
      if (op.clock.now().getTime() >= expiresAt) {
        throw precondition(
          'STAT-036',
          'RETENTION_EXPIRED',
          `the account was deleted more than ${op.deps.userDeleteRetentionDays} days ago and can no longer be restored`,
        );
      }
      user.status = user.suspendedAt ? 'suspended' : 'active';
      user.deletedAt = null;
      uow.record({ type: AuditEventType.userUndeleted, subjectUserId: user.id, metadata: { status: user.status } });
    },
  );
}

/**
 * The skeleton of every status change: validate user_id, serialize with other
 * administrator changes, lock the target and check who may change it, apply
 * the transition with its audit events, all in one transaction.
 */
async function changeStatus(
  op: Operation,
  rawUserId: string,
  violations: Violations,
  ids: TargetErrorIds & { invalid: string },
  transition: (uow: UnitOfWork, user: User) => Promise<void>,
): Promise<User> {
  const userId = rawUserId === '' ? '' : checkUuid('user_id', rawUserId, violations);
  if (rawUserId === '') violations.add('user_id', 'is required');
  violations.throwIfAny(ids.invalid);
  return inTransaction(op, async (uow) => {
    await lockAdministrators(uow.em);
    const user = await lockTargetUser(uow, userId, { forbidSelf: true, ids });
    await transition(uow, user);
    user.updatedAt = op.clock.now();
    return user;
  });
}
