import type { Operation } from '../kernel/operation.js';
import { hasConfirmedTotp, SocialLogin, User, violatedUniqueRule, lockUser, lockUserByEmailIndex } from '../../db/index.js';
import { type IdTokenClaims } from '../../crypto/oidc.js';
import { emailTakenOr, insertAccount } from './registration.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { accountInactive, recordLoginFailure, signIn, type IssuedTokens } from './sign-in.js';
import { issueMfaChallenge, type IssuedMfaChallenge } from './mfa-login.js';
import { limitCallsFromClient } from '../kernel/rate-limit-checks.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkEmail } from '../kernel/validation.js';
import { assuranceLevel, providerAmr } from './assurance.js';
import {
  addLink,
  checkProviderRequest,
  displayName,
  findLinkBySubject,
  providerAlreadyLinked,
  verifyIdToken,
} from './provider-identity.js';

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
  /** Unset when the account's second factor is still to be checked (mfaChallenge). */
  tokens?: IssuedTokens;
  mfaChallenge?: IssuedMfaChallenge;
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
  await limitCallsFromClient(op, 'provider_login', 'LIMIT-013');
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
        const link = await findLinkBySubject({ em: op.em.fork(), deps: op.deps }, input.provider, claims.sub);
        await recordLoginFailure(op, link?.user.id ?? null, err.reason.toLowerCase(), method);
      }
      throw emailTakenOr(err, 'SOCL-009');
    }
  }
}

async function signInWithClaims(uow: UnitOfWork, provider: string, claims: IdTokenClaims): Promise<ProviderLoginResult> {
  const method = `oidc:${provider}`;
  const now = uow.clock.now();
  const link = await findLinkBySubject(uow, provider, claims.sub);
  if (link) {
    const user = await lockUser(uow.em, link.user.id);
    if (user.status !== 'active') throw accountInactive('SOCL-002', user.status);
    link.lastLoginAt = now;
    return { user, ...(await signInOrChallenge(uow, user, method, claims)), created: false };
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
  const existing = await lockUserByEmailIndex(uow.em, uow.deps.emailIndex.of(email));
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
    await addLink(uow, existing, provider, claims, 'verified_email');
    return { user: existing, ...(await signInOrChallenge(uow, existing, method, claims)), created: false };
  }

  const user = await insertAccount(uow, {
    email,
    password: null,
    fullName: displayName(claims.name),
    role: 'user',
    emailVerified: true,
  });
  uow.record({ type: AuditEventType.userRegistered, subjectUserId: user.id, metadata: { role: user.role, method } });
  await addLink(uow, user, provider, claims, 'first_login');
  return { user, tokens: await signIn(uow, user, method, {}, providerAmr(claims.amr)), created: true };
}

/**
 * Opens the session, unless the account has a second factor and the
 * provider's sign-in did not reach aal2 on its own (its amr shows two kinds
 * of factor, or mfa): then a challenge. One provider factor never stands in
 * for the account's second one.
 */
async function signInOrChallenge(
  uow: UnitOfWork,
  user: User,
  method: string,
  claims: IdTokenClaims,
): Promise<Pick<ProviderLoginResult, 'tokens' | 'mfaChallenge'>> {
  const amr = providerAmr(claims.amr);
  if (assuranceLevel(amr) !== 'aal2' && (await hasConfirmedTotp(uow.em, user.id))) {
    return { mfaChallenge: issueMfaChallenge(uow, user, { method, amr }) };
  }
  return { tokens: await signIn(uow, user, method, {}, amr) };
}
