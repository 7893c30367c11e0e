import { v7 as uuidv7 } from 'uuid';
import type { Operation } from '../kernel/operation.js';
import { SocialLogin, User, violatedUniqueRule, lockUser, lockUserByEmail } from '../../db/index.js';
import { InvalidIdTokenError, ProviderUnavailableError, type IdTokenClaims } from '../../crypto/oidc.js';
import { emailTakenOr, FULL_NAME_MAX_LENGTH, insertAccount } from './registration.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { callerUserId, readableUserId } from '../kernel/callers.js';
import type { DomainDeps } from '../kernel/operation.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { accountInactive, recordLoginFailure, signIn, type IssuedTokens } from './sign-in.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkEmail, checkText } from '../kernel/validation.js';

const ID_TOKEN_MAX_LENGTH = 16 * 1024;
const PROVIDER_NAME_MAX_LENGTH = 32;
/** Refusals of a verified token that leave a login.failed event, with the event's reason. */
const RECORDED_REFUSALS = new Set([
  'ACCOUNT_SUSPENDED',
  'ACCOUNT_DELETED',
  'PROVIDER_EMAIL_NOT_VERIFIED',
  'ACCOUNT_EMAIL_NOT_VERIFIED',
  'EMAIL_REQUIRED',
  'PROVIDER_ALREADY_LINKED',
]);

export interface ProviderLoginResult {
  user: User;
  tokens: IssuedTokens;
  /** This sign-in created the account. */
  created: boolean;
}

/**
 * Signs a user in with a provider's ID token. The user linked to (provider,
 * subject) signs in; without a link, an account with the token's email is
 * linked only if both the provider and the account vouch for that email,
 * and with no such account a new one (without a password) is created.
 */
export async function loginWithProvider(
  op: Operation,
  input: { provider: string; idToken: string },
): Promise<ProviderLoginResult> {
  checkProviderRequest(op.deps, input, 'SOCL-001');
  const method = `oidc:${input.provider}`;
  let claims: IdTokenClaims;
  try {
    claims = await verifyIdToken(op.deps, input);
  } catch (err) {
    if (err instanceof DomainError && err.reason === 'INVALID_ID_TOKEN')
      await recordLoginFailure(op, null, 'invalid_id_token', method);
    throw err;
  }
  // One retry: a concurrent first sign-in of the same person may create the link or the account first.
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(op, (uow) => signInWithClaims(uow, input.provider, claims));
    } catch (err) {
      if (attempt === 1 && violatedUniqueRule(err) !== undefined) continue;
      if (err instanceof DomainError && err.reason && RECORDED_REFUSALS.has(err.reason)) {
        const [link] = await op.em
          .fork()
          .find(SocialLogin, { provider: input.provider, providerSubject: claims.sub }, { limit: 1 });
        await recordLoginFailure(op, link?.user.id ?? null, err.reason.toLowerCase(), method);
      }
      throw emailTakenOr(err, 'SOCL-009');
    }
  }
}

async function signInWithClaims(uow: UnitOfWork, provider: string, claims: IdTokenClaims): Promise<ProviderLoginResult> {
  const method = `oidc:${provider}`;
  const now = uow.clock.now();
  const link = await uow.em.findOne(SocialLogin, { provider, providerSubject: claims.sub });
  if (link) {
    const user = await lockUser(uow.em, link.user.id);
    if (user.status !== 'active') throw accountInactive('SOCL-002', user.status);
    link.lastLoginAt = now;
    return { user, tokens: await signIn(uow, user, method), created: false };
  }

  const violations = new Violations();
  const email = claims.email === undefined ? '' : checkEmail('email', claims.email, violations);
  if (email === '') {
    throw new DomainError(
      'failed_precondition',
      'SOCL-003',
      "the provider's ID token has no usable email claim; an account needs an email",
      {
        reason: 'EMAIL_REQUIRED',
      },
    );
  }
  // Never take over an account, nor claim an address for a new one, on the strength of an address nobody proved.
  if (!claims.emailVerified) {
    throw new DomainError(
      'failed_precondition',
      'SOCL-004',
      'the provider does not assert that the email is verified; register or sign in with a password, verify the address, then use LinkSocialLogin',
      {
        reason: 'PROVIDER_EMAIL_NOT_VERIFIED',
      },
    );
  }
  const existing = await lockUserByEmail(uow.em, email);
  if (existing) {
    if (!existing.emailVerifiedAt) {
      throw new DomainError(
        'failed_precondition',
        'SOCL-005',
        'an account with this email exists, and its email is not verified; sign in with the password, verify the address, then use LinkSocialLogin',
        {
          reason: 'ACCOUNT_EMAIL_NOT_VERIFIED',
        },
      );
    }
    if (existing.status !== 'active') throw accountInactive('SOCL-006', existing.status);
    if (await uow.em.count(SocialLogin, { user: existing.id, provider })) {
      throw providerAlreadyLinked('SOCL-007');
    }
    addLink(uow, existing, provider, claims, 'verified_email');
    return { user: existing, tokens: await signIn(uow, existing, method), created: false };
  }

  const user = await insertAccount(uow, {
    email,
    password: null,
    fullName: displayName(claims.name),
    role: 'user',
    emailVerified: true,
  });
  uow.record({ type: AuditEventType.userRegistered, subjectUserId: user.id, metadata: { role: user.role, method } });
  addLink(uow, user, provider, claims, 'first_login');
  return { user, tokens: await signIn(uow, user, method), created: true };
}

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
      const taken = await uow.em.findOne(SocialLogin, { provider: input.provider, providerSubject: claims.sub });
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
    uow.em.remove(link);
    uow.record({
      type: AuditEventType.socialLoginUnlinked,
      subjectUserId: user.id,
      metadata: { provider, subject: link.providerSubject },
    });
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
  for (const link of links) {
    uow.em.remove(link);
    uow.record({
      type: AuditEventType.socialLoginUnlinked,
      subjectUserId: userId,
      metadata: { provider: link.provider, subject: link.providerSubject, cause },
    });
  }
  return links.length;
}

function checkProviderRequest(deps: DomainDeps, input: { provider: string; idToken: string }, errorId: string): void {
  const violations = new Violations();
  if (input.provider === '') violations.add('provider', 'is required');
  else if (!deps.oidc.has(input.provider)) {
    const names = deps.oidc.names();
    violations.add(
      'provider',
      `unknown provider "${input.provider.slice(0, PROVIDER_NAME_MAX_LENGTH)}"; configured: ${names.length ? names.join(', ') : 'none'}`,
    );
  }
  if (input.idToken === '') violations.add('id_token', 'is required');
  else if (input.idToken.length > ID_TOKEN_MAX_LENGTH)
    violations.add('id_token', `must be at most ${ID_TOKEN_MAX_LENGTH} characters`);
  violations.throwIfAny(errorId);
}

async function verifyIdToken(deps: DomainDeps, input: { provider: string; idToken: string }): Promise<IdTokenClaims> {
  try {
    return await deps.oidc.verify(input.provider, input.idToken, deps.clock.now());
  } catch (err) {
    if (err instanceof InvalidIdTokenError) {
      throw new DomainError('unauthenticated', 'SOCL-040', 'the ID token is invalid, expired, or not meant for this service', {
        reason: 'INVALID_ID_TOKEN',
        cause: err,
      });
    }
    if (err instanceof ProviderUnavailableError) {
      throw new DomainError('unavailable', 'SOCL-041', "the provider's signing keys cannot be fetched; retry later", {
        reason: 'PROVIDER_UNAVAILABLE',
        cause: err,
      });
    }
    throw err;
  }
}

function addLink(uow: UnitOfWork, user: User, provider: string, claims: IdTokenClaims, via: string): SocialLogin {
  const link = uow.em.create(SocialLogin, {
    id: uuidv7(),
    user,
    provider,
    providerSubject: claims.sub,
    email: claims.email?.slice(0, 254) ?? null,
    createdAt: uow.clock.now(),
    lastLoginAt: via === 'user' ? null : uow.clock.now(),
  });
  uow.record({
    type: AuditEventType.socialLoginLinked,
    subjectUserId: user.id,
    metadata: { provider, subject: claims.sub, via },
  });
  return link;
}

/** The provider's display name, made safe for the profile (bounded, no control characters), or ''. */
function displayName(name: string | undefined): string {
  const violations = new Violations();
  const text = checkText('name', name ?? '', FULL_NAME_MAX_LENGTH, violations);
  return violations.isEmpty ? text : '';
}

const socialLoginTaken = (id: string) =>
  new DomainError('already_exists', id, 'this provider account is linked to another user', { reason: 'SOCIAL_LOGIN_TAKEN' });

const providerAlreadyLinked = (id: string) =>
  new DomainError('already_exists', id, 'an account of this provider is already linked; unlink it first', {
    reason: 'PROVIDER_ALREADY_LINKED',
  });
