import { isDeepStrictEqual } from 'node:util';
import type { Operation } from '../kernel/operation.js';
import { findUserPage, lockAdministrators, User, type UserRole, lockUserIfExists } from '../../db/index.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { readableUserId } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { checkPageSize, decodePageToken, queryFingerprint, toPage } from '../kernel/page-token.js';
import { principalHasPermission } from '../kernel/permissions.js';
import { endUserAccess } from '../auth/access-revocation.js';
import { parseUserFilter } from './user-filter.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkJson, checkUpdateMask, checkUuid } from '../kernel/validation.js';

/** Roles a person's account may have; "service" belongs to service accounts. */
const ASSIGNABLE_USER_ROLES = ['user', 'admin', 'auditor'] as const;
/** The fields UpdateUser's mask may name, in proto (snake_case) form. */
const USER_MASK_PATHS = ['role', 'email_verified', 'app_metadata'] as const;
type UserPath = (typeof USER_MASK_PATHS)[number];
const APP_METADATA_MAX_BYTES = 16 * 1024;

const userNotFound = (id: string) => new DomainError('not_found', id, 'no user with this id', { reason: 'USER_NOT_FOUND' });

/** Reads an account. An empty `userId` means the caller's own; anyone else's needs "users:read". */
export async function getUser(op: Operation, requestedUserId: string): Promise<User> {
  const userId = readableUserId(op.principal, requestedUserId, { noUser: 'USER-001', invalid: 'USER-002', denied: 'USER-003' });
  const user = await op.em.findOne(User, userId);
  if (!user) throw userNotFound('USER-004');
  return user;
}

export interface ListUsersInput {
  pageSize: number;
  pageToken: string;
  filter: string;
  showDeleted: boolean;
}

export interface UserPage {
  users: User[];
  nextPageToken: string;
  totalSize: number;
}

/**
 * A page of accounts in (created_at, id) order. The token carries the last
 * position and a fingerprint of the filter, so it cannot be replayed with
 * another one.
 */
export async function listUsers(op: Operation, input: ListUsersInput): Promise<UserPage> {
  const violations = new Violations();
  const pageSize = checkPageSize(input.pageSize, violations);
  violations.throwIfAny('USER-010');
  const conditions = parseUserFilter(input.filter, 'USER-011').map((c) =>
    c.field === 'email' ? { ...c, value: op.deps.emailIndex.of(c.value) } : c,
  );
  if (!input.showDeleted && conditions.some((c) => c.field === 'status' && c.op === '=' && c.value === 'deleted')) {
    new Violations().add('filter', 'deleted users are listed only with show_deleted set').throwIfAny('USER-012');
  }
  const fingerprint = queryFingerprint('users', input.filter.trim(), input.showDeleted);
  const after = decodePageToken(input.pageToken, fingerprint, 'USER-013');

  const { users, total } = await findUserPage(op.em, {
    conditions,
    includeDeleted: input.showDeleted,
    after,
    limit: pageSize + 1,
  });
  const { items, nextPageToken } = toPage(users, pageSize, fingerprint);
  return { users: items, nextPageToken, totalSize: total };
}

export interface UserUpdate {
  userId: string;
  /** A role name; '' when the request left it unspecified. Checked against ASSIGNABLE_USER_ROLES. */
  role: string;
  emailVerified: boolean;
  appMetadata: Record<string, unknown>;
}

/**
 * Changes the masked fields of an account: role, email verification, app
 * metadata. Records user.role_changed for a role change and user.updated
 * (field names only) for the rest. A role change ends the account's
 * sessions and pending links: access tokens carry the role.
 */
export async function updateUser(op: Operation, update: UserUpdate, mask: string[]): Promise<User> {
  const { userId, paths } = checkUpdate(update, mask);
  if (paths.includes('role') && !principalHasPermission(op.principal, 'roles:assign')) {
    throw new DomainError('permission_denied', 'USER-022', 'changing a role needs an administrator', {
      reason: 'PERMISSION_DENIED',
    });
  }
  return inTransaction(op, async (uow) => {
    const demoting = paths.includes('role') && update.role !== 'admin';
    if (demoting) await lockAdministrators(uow.em);
    const user = await lockTargetUser(uow, userId, { forbidSelf: paths.includes('role'), ids: USER_UPDATE_IDS });
    if (user.status === 'deleted') {
      throw new DomainError('failed_precondition', 'USER-023', 'the user is deleted; undelete it first', {
        reason: 'USER_DELETED',
      });
    }
    const now = op.clock.now();
    const changed: string[] = [];
    const roleChanges = paths.includes('role') && update.role !== user.role;
    if (roleChanges) {
      if (demoting && user.role === 'admin') await ensureAnotherActiveAdmin(uow, user.id, 'USER-024');
      uow.record({
        type: AuditEventType.userRoleChanged,
        subjectUserId: user.id,
        metadata: { old_role: user.role, new_role: update.role },
      });
      user.role = update.role as UserRole;
      // Access tokens carry the role: end them all rather than let the old role live until exp.
      await endUserAccess(uow, user.id, { cause: 'role_changed' });
    }
    if (paths.includes('email_verified') && update.emailVerified !== (user.emailVerifiedAt != null)) {
      user.emailVerifiedAt = update.emailVerified ? now : null;
      changed.push('email_verified');
    }
    if (paths.includes('app_metadata') && !isDeepStrictEqual(user.appMetadata ?? {}, update.appMetadata)) {
      user.appMetadata = update.appMetadata;
      changed.push('app_metadata');
    }
    if (changed.length > 0)
      uow.record({ type: AuditEventType.userUpdated, subjectUserId: user.id, metadata: { fields: changed } });
    if (roleChanges || changed.length > 0) user.updatedAt = now;
    return user;
  });
}

function checkUpdate(update: UserUpdate, mask: string[]): { userId: string; paths: UserPath[] } {
  const v = new Violations();
  if (update.userId === '') v.add('user.id', 'is required');
  else checkUuid('user.id', update.userId, v);
  const paths = checkUpdateMask(mask, USER_MASK_PATHS, v);
  if (paths.includes('role') && !(ASSIGNABLE_USER_ROLES as readonly string[]).includes(update.role)) {
    v.add('user.role', 'must be ROLE_USER, ROLE_ADMIN or ROLE_AUDITOR (ROLE_SERVICE is for service accounts)');
  }
  if (
    paths.includes('app_metadata') &&
    checkJson('user.app_metadata', update.appMetadata, v) &&
    Buffer.byteLength(JSON.stringify(update.appMetadata)) > APP_METADATA_MAX_BYTES
  ) {
    v.add('user.app_metadata', `must be at most ${APP_METADATA_MAX_BYTES} bytes as JSON`);
  }
  v.throwIfAny('USER-020');
  return { userId: update.userId.toLowerCase(), paths };
}

const USER_UPDATE_IDS = { notFound: 'USER-021', self: 'USER-025', adminTarget: 'USER-026' };

/** Error ids of one operation's target checks. */
export interface TargetErrorIds {
  notFound: string;
  self: string;
  adminTarget: string;
}

/**
 * Loads and row-locks the account an administrative change targets, and
 * applies the rules every such change shares: it must exist; nobody changes
 * their own role or status (`forbidSelf`); an administrator's account is
 * changed only by an administrator.
 */
export async function lockTargetUser(
  uow: UnitOfWork,
  userId: string,
  options: { forbidSelf: boolean; ids: TargetErrorIds },
): Promise<User> {
  const user = await lockUserIfExists(uow.em, userId);
  if (!user) throw userNotFound(options.ids.notFound);
  if (options.forbidSelf && uow.principal.kind === 'user' && uow.principal.userId === user.id) {
    throw new DomainError('permission_denied', options.ids.self, 'nobody changes their own role or status', {
      reason: 'SELF_CHANGE_FORBIDDEN',
    });
  }
  if (user.role === 'admin' && !principalHasPermission(uow.principal, 'roles:assign')) {
    throw new DomainError(
      'permission_denied',
      options.ids.adminTarget,
      "changing an administrator's account needs an administrator",
      {
        reason: 'PERMISSION_DENIED',
      },
    );
  }
  return user;
}

/**
 * Refuses to take away the last active administrator. The caller holds
 * lockAdministrators, so concurrent demotions cannot both pass this check.
 */
export async function ensureAnotherActiveAdmin(uow: UnitOfWork, userId: string, errorId: string): Promise<void> {
  const others = await uow.em.count(User, { role: 'admin', status: 'active', id: { $ne: userId } });
  if (others === 0) {
    throw new DomainError('failed_precondition', errorId, 'this is the last active administrator; promote another one first', {
      reason: 'LAST_ADMIN',
    });
  }
}
