import type { IssuedMfaChallenge, MfaMethod as DomainMfaMethod } from '../domain/auth/mfa-login.js';
import type { IssuedTokens } from '../domain/auth/sign-in.js';
import type { TotpEnrolment } from '../domain/auth/totp-enrolment.js';
import type { EnrollTotpResponse } from '../gen/tessera/v1/auth_service.js';
import { MfaMethod, type MfaChallenge } from '../gen/tessera/v1/mfa.js';
import type { TokenPair } from '../gen/tessera/v1/token.js';
import { toTokenPair } from './convert.js';

const METHODS: Record<DomainMfaMethod, MfaMethod> = {
  totp: MfaMethod.MFA_METHOD_TOTP,
  recovery_code: MfaMethod.MFA_METHOD_RECOVERY_CODE,
  totp_enrollment_required: MfaMethod.MFA_METHOD_TOTP_ENROLLMENT_REQUIRED,
};

function toMfaChallengeMessage(challenge: IssuedMfaChallenge): MfaChallenge {
  return {
    challengeId: challenge.challengeId,
    expiresAt: challenge.expiresAt,
    methods: challenge.methods.map((m) => METHODS[m]),
  };
}

/** A new TOTP secret as EnrollTotp and EnrollTotpForChallenge return it. */
export function toEnrolmentMessage(enrolment: TotpEnrolment): EnrollTotpResponse {
  return { secret: enrolment.secret, otpauthUri: enrolment.uri, qrCodePng: enrolment.qrPng };
}

/** The tokens of a sign-in, or the MFA challenge it returned instead (exactly one is set). */
export function toFirstFactorOutcome(result: { tokens?: IssuedTokens; mfaChallenge?: IssuedMfaChallenge }): {
  tokens: TokenPair | undefined;
  mfaChallenge: MfaChallenge | undefined;
} {
  return {
    tokens: result.tokens ? toTokenPair(result.tokens) : undefined,
    mfaChallenge: result.mfaChallenge ? toMfaChallengeMessage(result.mfaChallenge) : undefined,
  };
}
