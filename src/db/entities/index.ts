export { AuditEvent } from './audit-event.js';
export { EmailOutbox } from './email-outbox.js';
export { OneTimeToken, type OneTimeTokenPurpose } from './one-time-token.js';
export { RefreshTokenHistory } from './refresh-token-history.js';
export { ServiceAccount } from './service-account.js';
export { Session } from './session.js';
export { SigningKey } from './signing-key.js';
export { SocialLogin } from './social-login.js';
export { User, USER_ROLES, USER_STATUSES, type UserRole, type UserStatus } from './user.js';
export { UserProfile } from './user-profile.js';
export { ErasureReceipt } from './erasure-receipt.js';
export { MfaChallenge } from './mfa-challenge.js';
export { TotpFactor } from './totp-factor.js';

import { AuditEvent } from './audit-event.js';
import { EmailOutbox } from './email-outbox.js';
import { OneTimeToken } from './one-time-token.js';
import { RefreshTokenHistory } from './refresh-token-history.js';
import { ServiceAccount } from './service-account.js';
import { Session } from './session.js';
import { SigningKey } from './signing-key.js';
import { SocialLogin } from './social-login.js';
import { User } from './user.js';
import { UserProfile } from './user-profile.js';
import { UserKey } from './user-key.js';
import { ErasureReceipt } from './erasure-receipt.js';
import { MfaChallenge } from './mfa-challenge.js';
import { RecoveryCode } from './recovery-code.js';
import { TotpFactor } from './totp-factor.js';

/** Every entity, for the ORM configuration. */
export const ALL_ENTITIES = [
  User,
  UserProfile,
  UserKey,
  ErasureReceipt,
  Session,
  RefreshTokenHistory,
  SigningKey,
  AuditEvent,
  OneTimeToken,
  EmailOutbox,
  ServiceAccount,
  SocialLogin,
  TotpFactor,
  RecoveryCode,
  MfaChallenge,
];
