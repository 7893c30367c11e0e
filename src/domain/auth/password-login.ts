import { findSignInCandidate, lockSignInUser, storeUpgradedHash, type SignInUser } from '../../db/index.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { reserveGuess } from '../kernel/rate-limit-checks.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkEmail, checkPresentedPassword } from '../kernel/validation.js';
import { accountInactive, recordLoginFailure, signInActiveUser } from './sign-in.js';
import { issueMfaChallenge, type FirstFactorResult } from './mfa-login.js';
import { AMR } from './second-factor.js';
import { queueSignInLockedMail } from './sign-in-lock.js';

/** Refuses a sign-in whose account went away (erased) or out of active since its password was checked. */
function refuseInactive(user: SignInUser | null | undefined): never {
  if (!user) throw invalidCredentials();
  throw accountInactive('SESS-007', user.status);
}

const invalidCredentials = () =>
  new DomainError('unauthenticated', 'SESS-001', 'invalid email or password', { reason: 'INVALID_CREDENTIALS' });

/**
 * Signs a user in with email and password and opens a session.
 *
 * An unknown email is verified against a dummy hash, so it costs the same
 * time as a wrong password and fails with the same error. Each attempt is
 * counted before the password is checked (per email and per client); while
 * either is locked, even the right password is refused. Every attempt,
 * failed or not, leaves an audit event. Account status is revealed only to
 * someone who knows the password. An account with a second factor gets an
 * MFA challenge instead of tokens, and its guess count is kept (not reset)
 * until the second factor is right too.
 */
export async function loginWithPassword(
  op: Operation,
  input: { email: string; password: string },
): Promise<FirstFactorResult<SignInUser>> {
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkPresentedPassword('password', input.password, violations);
  violations.throwIfAny('SESS-002');

  // One prepared read (account, hash, second factor): Login's hot path stays off the ORM.
  const user = await findSignInCandidate(op.em, op.deps.emailIndex.of(email));
  // Counted before the check, known and unknown emails alike (see kernel/rate-limit-checks.ts).
  const guess = await reserveGuess(op, email, 'LIMIT-001', () => recordLoginFailure(op, user?.id ?? null, 'too_many_attempts'));
  const check = user?.passwordHash
    ? await op.deps.passwords.verify({ hash: user.passwordHash, pepperId: user.passwordPepperId ?? null }, password, op.signal)
    : { ok: await op.deps.passwords.verifyDummy(password, op.signal), needsRehash: false };

  if (!user || !check.ok) {
    const { locked } = await guess.failed();
    await recordLoginFailure(op, user?.id ?? null, user ? 'wrong_password' : 'unknown_account', 'password', (uow) => {
      // The address typed is the account's: it matched the index.
      if (user && locked) queueSignInLockedMail(uow, email, user.id);
    });
    throw invalidCredentials();
  }
  const secondFactor = user.hasConfirmedTotp;
  // A role that needs a second factor, without one: no tokens until it is enrolled.
  const enrolmentRequired = !secondFactor && op.deps.mfaRequiredRoles.includes(user.role);
  await (secondFactor || enrolmentRequired ? guess.passed() : guess.succeeded());
  if (user.status !== 'active') {
    await recordLoginFailure(op, user.id, `account_${user.status}`);
    throw accountInactive('SESS-003', user.status);
  }

  // Upgrade a legacy hash (imported scheme, older cost parameters or pepper) while we hold the plain password.
  const upgradedHash = check.needsRehash ? await op.deps.passwords.hash(password, op.signal) : undefined;

  // The client gave up while its password was checked: open no session it will never receive.
  op.signal.throwIfAborted();
  return inTransaction(
    op,
    async (uow) => {
      const first = { method: 'password', amr: [AMR.password] };
      if (!secondFactor && !enrolmentRequired) {
        // The stamp re-checks the status under the row lock it takes.
        const stamp = () =>
          signInActiveUser(uow, user.id, 'password', { rehashed: Boolean(upgradedHash) }, first.amr, upgradedHash);
        const signedIn = await stamp();
        if (signedIn) return signedIn;
        const current = await lockSignInUser(uow.em, user.id);
        if (current?.status !== 'active') refuseInactive(current);
        // Reactivated since the stamp missed it: the row is locked now, so this one holds.
        return (await stamp()) ?? refuseInactive(current);
      }
      // Re-read under a row lock: suspended or deleted between the password check and now?
      const current = (await lockSignInUser(uow.em, user.id)) ?? refuseInactive(null);
      if (current.status !== 'active') refuseInactive(current);
      if (upgradedHash) await storeUpgradedHash(uow.em, current.id, upgradedHash);
      const mfaChallenge = enrolmentRequired
        ? issueMfaChallenge(uow, current, first, ['totp_enrollment_required'])
        : issueMfaChallenge(uow, current, first);
      return { user: current, mfaChallenge };
    },
    { whileCallerWaits: true },
  );
}
