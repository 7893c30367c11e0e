import { lockUser, User } from '../../db/index.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { checkEmail, checkPresentedPassword } from '../kernel/validation.js';
import { accountInactive, recordLoginFailure, signIn, type LoginResult } from './sign-in.js';

const invalidCredentials = () =>
  new DomainError('unauthenticated', 'SESS-001', 'invalid email or password', { reason: 'INVALID_CREDENTIALS' });

/**
 * Signs a user in with email and password and opens a session.
 *
 * An unknown email is verified against a dummy hash, so it costs the same
 * time as a wrong password and fails with the same error. Every attempt,
 * failed or not, leaves an audit event. Account status is revealed only to
 * someone who knows the password.
 */
export async function loginWithPassword(op: Operation, input: { email: string; password: string }): Promise<LoginResult> {
  const violations = new Violations();
  const email = checkEmail('email', input.email, violations);
  const password = checkPresentedPassword('password', input.password, violations);
  violations.throwIfAny('SESS-002');

  const user = await op.em.findOne(User, { email }, { populate: ['passwordHash'] });
  try {
    await op.deps.loginThrottle.assertAllowed(email, op.ip);
  } catch (err) {
    await recordLoginFailure(op, user?.id ?? null, 'too_many_attempts');
    throw err;
  }
  const check = user?.passwordHash
    ? await op.deps.passwords.verify({ hash: user.passwordHash, pepperId: user.passwordPepperId ?? null }, password, op.signal)
    : { ok: await op.deps.passwords.verifyDummy(password, op.signal), needsRehash: false };

  if (!user || !check.ok) {
    await op.deps.loginThrottle.recordFailure(email, op.ip);
    await recordLoginFailure(op, user?.id ?? null, user ? 'wrong_password' : 'unknown_account');
    throw invalidCredentials();
  }
  await op.deps.loginThrottle.recordSuccess(email);
  if (user.status !== 'active') {
    await recordLoginFailure(op, user.id, `account_${user.status}`);
    throw accountInactive('SESS-003', user.status);
  }

  // Upgrade a legacy hash (imported scheme, older cost parameters or pepper) while we hold the plain password.
  const upgradedHash = check.needsRehash ? await op.deps.passwords.hash(password, op.signal) : undefined;

  return inTransaction(op, async (uow) => {
    // Re-read under a row lock: concurrent sign-ins of one account would otherwise
    // all write the version read before the password check, and all but one fail.
    const current = await lockUser(uow.em, user.id);
    // Suspended or deleted between the password check and the lock.
    if (current.status !== 'active') throw accountInactive('SESS-007', current.status);
    if (upgradedHash) {
      current.passwordHash = upgradedHash.hash;
      current.passwordPepperId = upgradedHash.pepperId;
    }
    const tokens = await signIn(uow, current, 'password', { rehashed: Boolean(upgradedHash) });
    return { user: current, tokens };
  });
}
