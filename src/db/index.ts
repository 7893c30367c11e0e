// The storage layer's public face: the domain imports from here, never from @mikro-orm directly.
export { type EntityManager, LockMode } from '@mikro-orm/postgresql';
export { isUniqueViolation, violatedUniqueRule } from './unique-violations.js';
export { lockSession, lockUser, lockUserByEmailIndex, lockUserIfExists } from './locks.js';
export * from './entities/index.js';
export {
  appendAuditEvents,
  AUDIT_CHANNEL,
  deleteAuditEventsBefore,
  readAuditEvents,
  type AuditEventQuery,
  type NewAuditEvent,
} from './audit-log.js';
export { AuditHorizon, probeAuditTrail } from './audit-horizon.js';
export { NotificationListener, SIGNING_KEYS_CHANNEL } from './notification-listener.js';
export { findSessionState } from './session-state.js';
export { findProfileRow } from './profile-read.js';
export { clearExpiredSuccessors, pruneEndedRefreshHistory } from './session-cleanup.js';
export {
  pruneEndedSessions,
  pruneFinishedMail,
  pruneSpentOneTimeTokens,
  pruneSpentMfaChallenges,
  scrubAuditPersonalData,
} from './retention-queries.js';
export { lazyEntityManager } from './lazy-entity-manager.js';
export {
  findServiceAccountByCertificateIdentity,
  findServiceAccountById,
  findServiceAccountByKeyHash,
  touchServiceAccount,
} from './service-account-state.js';
export { isDatabaseUnavailable, isLockTimeout, pingDatabase } from './health.js';
export { connectOrm, migrateToLatest, type Orm } from './orm.js';
export { countLegacyPasswordHashes } from './password-hashes.js';
export { findUserPage, type UserCondition, type PageCursor } from './user-query.js';
export { lockAdministrators } from './admin-lock.js';
export {
  findOneTimeToken,
  findPublishedSigningKeys,
  findServiceAccountPage,
  lockOneTimeToken,
  lockSessionByRefreshHash,
} from './queries.js';
export { PgKeyStore, type KeyPosition, type StoredDataKey } from './key-store.js';
export { defaultKeyDatabaseUrl, openKeyStore } from './key-database.js';
export { moveLegacyUserKeys } from './legacy-user-keys.js';
export { findExistingUserIds } from './user-existence.js';
export { lockClearEmails, storeSealedEmail, tablesWithClearEmailColumn, type ClearEmailTable } from './clear-emails.js';
export { lockClearProfileFields, storeSealedProfileFields } from './clear-profile-fields.js';
export {
  hasClearProviderSubjectColumn,
  lockClearProviderSubjects,
  storeSealedProviderSubject,
} from './clear-provider-subjects.js';
export {
  countStaleCiphertexts,
  lockStaleCiphertexts,
  MASTER_KEY_CIPHERTEXTS,
  storeResealedCiphertext,
  type MasterKeyCiphertextKind,
} from './master-key-ciphertexts.js';
export {
  erasePersonalRows,
  findDeletedUsersBefore,
  lockAccountForErasure,
  withJobLock,
  type ErasureCounts,
} from './user-erasure.js';
export {
  countUnusedRecoveryCodes,
  deleteSecondFactors,
  findMfaChallenge,
  hasConfirmedTotp,
  lockMfaChallenge,
  lockTotpFactor,
  lockUnusedRecoveryCode,
  replaceRecoveryCodes,
  summarizeSecondFactors,
  type SecondFactorSummary,
} from './mfa-queries.js';
export {
  findSignInCandidate,
  insertSession,
  lockSignInUser,
  stampSignIn,
  storeUpgradedHash,
  type NewSession,
  type SignInUser,
} from './sign-in-writes.js';
export { insertAccountRows, insertedAccount, type AccountFields, type NewAccountRow } from './account-writes.js';
