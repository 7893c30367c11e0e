// The second step of a sign-in: a challenge issued after the first factor, answered with a code.
import { openUserEmail } from '../kernel/user-email.js';
import { v7 as uuidv7 } from 'uuid';
import { findMfaChallenge, lockMfaChallenge, lockUser, MfaChallenge, User } from '../../db/index.js';
import { generateOpaqueSecret, hashBearerSecret } from '../../crypto/random.js';
import { AuditEventType } from '../kernel/audit-record.js';
import { DomainError, Violations } from '../kernel/errors.js';
import type { Operation } from '../kernel/operation.js';
import type { UnitOfWork } from '../kernel/unit-of-work.js';
import {
  AMR,
  checkRecoveryCode,
  checkTotpCode,
  issueRecoveryCodes,
  withVerifiedCode,
  type PresentedFactor,
} from './second-factor.js';
import { accountInactive, signIn, type LoginResult } from './sign-in.js';

/** Challenge secrets carry a prefix so secret scanners and humans recognise them. */
const CHALLENGE_PREFIX = 'tsm_';
const CHALLENGE_TTL_SECONDS = 5 * 60;
const CHALLENGE_MAX_LENGTH = 100;

/** How a challenge can be answered. */
export type MfaMethod = 'totp' | 'recovery_code' | 'totp_enrollment_required';

export interface IssuedMfaChallenge {
  /** The secret the client presents to CompleteMfaLogin; only its hash is stored. */
  challengeId: string;
  expiresAt: Date;
  methods: MfaMethod[];
}

/** What a first factor yields: tokens, or a challenge for the second one. */
export type FirstFactorResult<U = User> =
  { user: U; tokens: LoginResult['tokens'] } | { user: U; mfaChallenge: IssuedMfaChallenge };

/**
 * Stores a challenge for a user whose first factor (`method`, with its RFC
 * 8176 `amr`) was right, and records mfa.challenge_issued; no session yet.
 */
export function issueMfaChallenge(
  uow: UnitOfWork,
  user: Pick<User, 'id'>,
  first: { method: string; amr: string[] },
  methods: MfaMethod[] = ['totp', 'recovery_code'],
): IssuedMfaChallenge {
  const challengeId = generateOpaqueSecret(CHALLENGE_PREFIX);
  const now = uow.clock.now();
  const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_SECONDS * 1000);
  const id = uuidv7();
  uow.em.create(MfaChallenge, {
    id,
    challengeHash: hashBearerSecret(challengeId),
    userId: user.id,
    method: first.method,
    firstFactorAmr: first.amr,
    enrollment: methods.includes('totp_enrollment_required'),
    createdAt: now,
    expiresAt,
    usedAt: null,
  });
  uow.record({
    type: AuditEventType.mfaChallengeIssued,
    subjectUserId: user.id,
    actor: { type: 'user', id: user.id },
    metadata: { challenge: id, method: first.method, methods },
  });
  return { challengeId, expiresAt, methods };
}

const invalidChallenge = (id: string) =>
  new DomainError('unauthenticated', id, 'the MFA challenge is unknown, used or expired; sign in again', {
    reason: 'INVALID_MFA_CHALLENGE',
  });

/** Whether a challenge can still be answered at `now`. */
export const usable = (challenge: MfaChallenge | null, now: Date): challenge is MfaChallenge =>
  !!challenge && challenge.usedAt === null && challenge.expiresAt > now;

/** A challenge id of the request, or a violation on challenge_id. */
export function checkChallengeId(raw: string, violations: Violations): string {
  const challengeId = raw.trim();
  if (challengeId === '') violations.add('challenge_id', 'is required');
  else if (challengeId.length > CHALLENGE_MAX_LENGTH || !challengeId.startsWith(CHALLENGE_PREFIX))
    violations.add('challenge_id', 'is not an MFA challenge id');
  return challengeId;
}

/**
 * Answers a challenge with an authenticator or recovery code and opens the
 * session. The code is counted with the account's password guesses; the
 * challenge is locked and used up in the transaction that opens the session,
 * so of two calls with one challenge exactly one signs in.
 */
export async function completeMfaLogin(
  op: Operation,
  input: { challengeId: string; code: string; recoveryCode: string },
): Promise<LoginResult & { recoveryCodes: string[] }> {
  const violations = new Violations();
  const challengeId = checkChallengeId(input.challengeId, violations);
  let factor: PresentedFactor | undefined;
  if (input.code !== '' && input.recoveryCode !== '') violations.add('recovery_code', 'give either code or recovery_code');
  else if (input.code !== '') factor = { totp: checkTotpCode('code', input.code, violations) };
  else if (input.recoveryCode !== '')
    factor = { recoveryCode: checkRecoveryCode('recovery_code', input.recoveryCode, violations) };
  else violations.add('code', 'give code or recovery_code');
  violations.throwIfAny('MFA-050');

  const challengeHash = hashBearerSecret(challengeId);
  const found = await findMfaChallenge(op.em, challengeHash);
  if (!usable(found, op.clock.now())) throw invalidChallenge('MFA-051');
  const user = await op.em.findOneOrFail(User, found.userId);
  let challenge!: MfaChallenge;
  const check = {
    userId: user.id,
    email: await openUserEmail(op, user),
    factor: factor!,
    operation: 'login',
    // A required enrolment is answered with a code of the authenticator it just enrolled.
    state: found.enrollment ? 'pending' : 'confirmed',
    outcome: 'complete',
    wrongCode: () =>
      new DomainError('unauthenticated', 'MFA-052', 'the code is wrong or was already used', { reason: 'INVALID_MFA_CODE' }),
  } as const;
  return withVerifiedCode(
    op,
    check,
    async (uow, factor, method) => {
      const current = await lockUser(uow.em, user.id);
      if (current.status !== 'active') throw accountInactive('MFA-053', current.status);
      challenge.usedAt = uow.clock.now();
      let recoveryCodes: string[] = [];
      if (challenge.enrollment) {
        factor.confirmedAt = uow.clock.now();
        recoveryCodes = await issueRecoveryCodes(uow, user.id);
        uow.record({
          type: AuditEventType.mfaTotpConfirmed,
          subjectUserId: user.id,
          actor: { type: 'user', id: user.id },
          metadata: { recovery_codes: recoveryCodes.length },
        });
      }
      const amr =
        method === 'totp'
          ? [...challenge.firstFactorAmr, AMR.otp, AMR.mfa]
          : [...challenge.firstFactorAmr, AMR.recoveryCode, AMR.mfa];
      const tokens = await signIn(uow, current, challenge.method, { mfa_method: method }, amr);
      return { user: current, tokens, recoveryCodes };
    },
    // Locked before the code is checked: a second call with the same challenge waits, then finds it used.
    async (uow) => {
      const locked = await lockMfaChallenge(uow.em, challengeHash);
      if (!usable(locked, uow.clock.now())) throw invalidChallenge('MFA-054');
      challenge = locked;
    },
  );
}
