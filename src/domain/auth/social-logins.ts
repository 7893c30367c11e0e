import type { Operation } from '../kernel/operation.js';
import { SocialLogin, User, violatedUniqueRule, lockUser } from '../../db/index.js';
import { type IdTokenClaims } from '../../crypto/oidc.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { callerUserId, readableUserId } from '../kernel/callers.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import {
  addLink,
  checkProviderRequest,
  findLinkBySubject,
  openSocialLogins,
  PROVIDER_NAME_MAX_LENGTH,
  providerAlreadyLinked,
  verifyIdToken,
} from './provider-identity.js';

/** The user's links, oldest first. An empty `userId` means the caller's; anyone else's needs "users:read". */
export async function listSocialLogins(op: Operation, requestedUserId: string): Promise<SocialLogin[]> {
  const userId = readableUserId(op.principal, requestedUserId, { noUser: 'SOCL-010', invalid: 'SOCL-011', denied: 'SOCL-012' });
  if ((await op.em.count(User, userId)) === 0) {
    throw new DomainError('not_found', 'SOCL-013', 'no user with this id', { reason: 'USER_NOT_FOUND' });
  }
  return op.em.find(SocialLogin, { user: userId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

/** Links a provider account, proven by its ID token, to the signed-in user. */
export async function linkSocialLogin(op: Operation, input: { provider: string; idToken: string }): Promise<SocialLogin> {
  const userId = callerUserId(op.principal, 'SOCL-020');
  checkProviderRequest(op.deps, input, 'SOCL-021');
  let claims: IdTokenClaims;
  try {
    claims = await verifyIdToken(op.deps, input);
  } catch (err) {
    // The caller is signed in: a bad ID token is a bad argument, not a failed authentication of the call.
    if (err instanceof DomainError && err.reason === 'INVALID_ID_TOKEN') {
      new Violations()
        .add('id_token', `is not a valid, current ID token of "${input.provider}" for this service`)
        .throwIfAny('SOCL-022');
    }
    throw err;
  }
  try {
    return await inTransaction(op, async (uow) => {
      const user = await lockUser(uow.em, userId);
      // Until the owner proved the address, the account may be a squatter's: no provider may be planted on it.
      if (!user.emailVerifiedAt) {
        throw new DomainError('failed_precondition', 'SOCL-026', 'verify the email address before linking a provider', {
          reason: 'EMAIL_NOT_VERIFIED',
        });
      }
      const taken = await findLinkBySubject(uow, input.provider, claims.sub);
      if (taken && taken.user.id === user.id) return taken;
      if (taken) throw socialLoginTaken('SOCL-023');
      if (await uow.em.count(SocialLogin, { user: user.id, provider: input.provider })) throw providerAlreadyLinked('SOCL-024');
      return addLink(uow, user, input.provider, claims, 'user');
    });
  } catch (err) {
    if (violatedUniqueRule(err) !== undefined) throw socialLoginTaken('SOCL-025');
    throw err;
  }
}

/**
 * Removes the signed-in user's link to a provider, unless it is their last
 * way to sign in (no password and no other link).
 */
export async function unlinkSocialLogin(op: Operation, provider: string): Promise<void> {
  const userId = callerUserId(op.principal, 'SOCL-030');
  const violations = new Violations();
  if (provider === '') violations.add('provider', 'is required');
  else if (provider.length > PROVIDER_NAME_MAX_LENGTH)
    violations.add('provider', `must be at most ${PROVIDER_NAME_MAX_LENGTH} characters`);
  violations.throwIfAny('SOCL-031');
  await inTransaction(op, async (uow) => {
    // The row lock serializes two unlinks of the same user, which could otherwise each see the other link left.
    const user = await lockUser(uow.em, userId, { withPasswordHash: true });
    const links = await uow.em.find(SocialLogin, { user: user.id });
    const link = links.find((l) => l.provider === provider);
    if (!link) {
      throw new DomainError('not_found', 'SOCL-032', `no "${provider}" login is linked to this account`, {
        reason: 'SOCIAL_LOGIN_NOT_FOUND',
      });
    }
    if (!user.passwordHash && links.length === 1) {
      throw new DomainError(
        'failed_precondition',
        'SOCL-033',
        'this is the last way to sign in to the account: link another provider first',
        {
          reason: 'LAST_SIGN_IN_METHOD',
        },
      );
    }
    const { subject } = (await openSocialLogins(uow, [link])).get(link.id)!;
    uow.em.remove(link);
    uow.record({ type: AuditEventType.socialLoginUnlinked, subjectUserId: user.id, metadata: { provider, subject } });
  });
}

/**
 * Removes every provider link of a user, inside the caller's transaction, and
 * records social_login.unlinked for each with its `cause`. Used when someone
 * proves control of an address the account never verified: links made before
 * may belong to whoever squatted the address.
 */
export async function removeProviderLinks(uow: UnitOfWork, userId: string, cause: string): Promise<number> {
  const links = await uow.em.find(SocialLogin, { user: userId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  const opened = await openSocialLogins(uow, links);
  for (const link of links) {
    uow.em.remove(link);
    uow.record({
      type: AuditEventType.socialLoginUnlinked,
      subjectUserId: userId,
      metadata: { provider: link.provider, subject: opened.get(link.id)!.subject, cause },
    });
  }
  return links.length;
}

const socialLoginTaken = (id: string) =>
  new DomainError('already_exists', id, 'this provider account is linked to another user', { reason: 'SOCIAL_LOGIN_TAKEN' });
