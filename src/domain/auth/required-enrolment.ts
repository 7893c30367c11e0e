import { findMfaChallenge } from '../../db/index.js';
import { hashBearerSecret } from '../../crypto/random.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import { checkChallengeId, usable } from './mfa-login.js';
import { startTotpEnrolment, type TotpEnrolment } from './totp-enrolment.js';

/**
 * Starts the enrolment a sign-in requires (MFA_REQUIRED_ROLES), on the
 * strength of the sign-in's challenge: its holder passed the password but has
 * no token yet, and gets none until CompleteMfaLogin confirms the new
 * authenticator with the same challenge.
 */
export async function enrollTotpForChallenge(op: Operation, input: { challengeId: string }): Promise<TotpEnrolment> {
  const violations = new Violations();
  const challengeId = checkChallengeId(input.challengeId, violations);
  violations.throwIfAny('MFA-060');
  const challenge = await findMfaChallenge(op.em, hashBearerSecret(challengeId));
  if (!usable(challenge, op.clock.now()) || !challenge.enrollment) {
    throw new DomainError('unauthenticated', 'MFA-061', 'the challenge is unknown, used, expired or requires no enrolment', {
      reason: 'INVALID_MFA_CHALLENGE',
    });
  }
  return startTotpEnrolment(op, challenge.userId);
}
