import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { simpleParser, type ParsedMail } from 'mailparser';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditEventType as DomainAuditEventType } from '../../src/domain/kernel/audit-record.js';
import { ActorType, AuditEventType, type AuditEvent } from '../../src/gen/tessera/v1/audit_event.js';
import { AuthServiceService } from '../../src/gen/tessera/v1/auth_service.js';
import {
  AuditEventOrder,
  ComplianceServiceService,
  ListAuditEventsRequest,
  type ComplianceServiceClient,
} from '../../src/gen/tessera/v1/compliance_service.js';
import { IdentityServiceService, ListUsersRequest } from '../../src/gen/tessera/v1/identity_service.js';
import { Profile } from '../../src/gen/tessera/v1/profile.js';
import { ProfileServiceService } from '../../src/gen/tessera/v1/profile_service.js';
import { Role, User } from '../../src/gen/tessera/v1/user.js';
import { auditTypeFromProto, auditTypeToProto } from '../../src/rpc/audit-convert.js';
import { complianceClient } from '../helpers/audit.js';
import {
  adminToken,
  DEFAULT_PASSWORD,
  registerUser,
  serviceAccountKey,
  signedInUser,
  signedInWithRole,
  sql,
  uniqueEmail,
} from '../helpers/fixtures.js';
import { harness } from '../helpers/harness.js';
import { mfaChallengeOf, nextTotpCode, userWithTotp } from '../helpers/mfa.js';
import { tokenFromMail } from '../helpers/mail.js';
import { startOidcTestSetup, type OidcTestSetup } from '../helpers/oidc-provider.js';
import { expectRpcError } from '../helpers/rpc-errors.js';
import { bearer, call, startSiblingServer } from '../helpers/server.js';
import { emailIndexOf } from '../helpers/email-index.js';

/** What a case's action did: the user the event concerns (null: none) and every secret it handled. */
interface Acted {
  subject: string | null;
  secrets: string[];
  /** The actor's id when the actor is not the subject: the administrator or service account that called. */
  actorId?: string;
  /** Values the typed details must hold (a subset of their fields), when the case knows them. */
  details?: Record<string, unknown>;
}

interface CatalogueCase {
  rpc: string;
  /** Performs the call under test with `md` (which carries its x-request-id); setup calls use other ids. */
  act: (md: Metadata) => Promise<Acted>;
  expect: {
    type: AuditEventType;
    typeName: string;
    actorType: ActorType;
    /** The actor id is the subject's (true) or empty (false). */
    actorIsSubject: boolean;
    /** The typed details case; undefined: no details, and `metadataKeys` instead. */
    details?: NonNullable<AuditEvent['details']>['$case'];
    metadataKeys?: string[];
    /**
     * Other events (type names) the same call writes by design, e.g. the
     * session.revoked of a suspension; checked exactly, and for secrets too.
     * Without it the call must write exactly one event.
     */
    alsoWrites?: string[];
  };
}

const WRONG_PASSWORD = 'definitely the wrong passphrase';
const NEW_PASSWORD = 'a catalogue replacement passphrase';
const PHONE = '+351912345678';
const APP_METADATA_VALUE = 'catalogue-app-metadata-value';

/** Metadata with a fresh x-request-id, plus `authorization` when a token is given. */
function requestMetadata(requestId: string, token?: string): Metadata {
  const md = new Metadata();
  md.set('x-request-id', requestId);
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function withToken(md: Metadata, token: string): Metadata {
  const copy = md.clone();
  copy.set('authorization', `Bearer ${token}`);
  return copy;
}

/** Reads an ExportUserData stream to its end. */
function exportToEnd(userId: string, md: Metadata): Promise<void> {
  const compliance = complianceClient();
  return new Promise((resolve, reject) => {
    const stream = compliance.exportUserData({ userId }, md);
    stream.on('data', () => {});
    stream.on('error', (err: ServiceError) => {
      compliance.close();
      reject(err);
    });
    stream.on('end', () => {
      compliance.close();
      resolve();
    });
  });
}

const auth = () => harness().server.auth;
const profile = () => harness().server.profile;
const identity = () => harness().server.identity;

/** A server on the shared database that trusts the local OIDC provider "test-idp" (started in `before`). */
let oidc: OidcTestSetup;
const IDP = 'test-idp';
const newSubject = () => `cat-sub-${randomBytes(8).toString('hex')}`;

/** A fresh administrator (not the bootstrap one), so the actor id is known. */
const freshAdmin = () => signedInWithRole('admin');

/** Secrets a signed-in user handled: password and both tokens. */
const userSecrets = (u: { password: string; accessToken: string; refreshToken: string }) => [
  u.password,
  u.accessToken,
  u.refreshToken,
];

/** Secrets of a user with an authenticator: those above, its TOTP secret and its recovery codes. */
const totpUserSecrets = (u: Awaited<ReturnType<typeof userWithTotp>>) => [...userSecrets(u), u.secret, ...u.recoveryCodes];

/** A user with an authenticator who passed the password: the challenge to answer, and every secret so far. */
async function challengedUser() {
  const user = await userWithTotp();
  const challengeId = await mfaChallengeOf(user);
  return { user, challengeId, secrets: [...totpUserSecrets(user), challengeId] };
}

/** The mail the shared server wrote to files (it has no SMTP_URL), parsed once each. */
const sharedMail = new Map<string, ParsedMail>();

function recipientsOf(mail: ParsedMail): string[] {
  const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
  return to.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

/**
 * The token of the newest mail the shared server sent to `address` (each case
 * uses fresh addresses, so that is the one its call queued). Delivers the
 * outbox at once instead of waiting for the next poll.
 */
async function tokenMailedTo(address: string, timeoutMs = 10_000): Promise<string> {
  const dir = join(harness().server.env.TESSERA_DATA_DIR, 'mail');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await harness().server.tessera.outbox.runOnce();
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    } catch {
      // No mail written yet.
    }
    for (const file of files.sort()) {
      if (!sharedMail.has(file)) sharedMail.set(file, await simpleParser(readFileSync(join(dir, file))));
    }
    const found = [...sharedMail.entries()]
      .filter(([, mail]) => recipientsOf(mail).includes(address))
      .sort(([a], [b]) => a.localeCompare(b));
    if (found.length > 0) return tokenFromMail(found.at(-1)![1]);
    if (Date.now() > deadline) throw new Error(`no mail to ${address} in ${dir} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const CASES: CatalogueCase[] = [
  {
    rpc: 'AuthService.Register',
    act: async (md) => {
      const email = uniqueEmail('cat-register');
      const res = await call(auth(), 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Catalogue Register' }, md);
      return { subject: res.user!.id, secrets: [DEFAULT_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_REGISTERED,
      typeName: 'user.registered',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['role'],
    },
  },
  {
    rpc: 'AuthService.Login (success)',
    act: async (md) => {
      const { email, password } = await registerUser();
      const res = await call(auth(), 'login', { email, password }, md);
      return { subject: res.user!.id, secrets: [password, res.tokens!.accessToken, res.tokens!.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED,
      typeName: 'login.succeeded',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'login',
      metadataKeys: ['rehashed'],
    },
  },
  {
    rpc: 'AuthService.Login (wrong password)',
    act: async (md) => {
      const { user, email, password } = await registerUser();
      await expectRpcError(call(auth(), 'login', { email, password: WRONG_PASSWORD }, md), status.UNAUTHENTICATED);
      return { subject: user.id, secrets: [password, WRONG_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED,
      typeName: 'login.failed',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      details: 'loginFailed',
    },
  },
  {
    rpc: 'AuthService.Login (unknown email)',
    act: async (md) => {
      await expectRpcError(
        call(auth(), 'login', { email: uniqueEmail('cat-ghost'), password: WRONG_PASSWORD }, md),
        status.UNAUTHENTICATED,
      );
      return { subject: null, secrets: [WRONG_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED,
      typeName: 'login.failed',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      details: 'loginFailed',
    },
  },
  {
    rpc: 'AuthService.RefreshToken',
    act: async (md) => {
      const user = await signedInUser();
      const res = await call(auth(), 'refreshToken', { refreshToken: user.refreshToken }, md);
      return {
        subject: user.user!.id,
        secrets: [user.password, user.accessToken, user.refreshToken, res.tokens!.accessToken, res.tokens!.refreshToken],
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_TOKEN_REFRESHED,
      typeName: 'token.refreshed',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'session',
    },
  },
  {
    rpc: 'AuthService.Logout',
    act: async (md) => {
      const user = await signedInUser();
      await call(auth(), 'logout', { refreshToken: user.refreshToken }, md);
      return { subject: user.user!.id, secrets: [user.password, user.accessToken, user.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SESSION_LOGGED_OUT,
      typeName: 'session.logged_out',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'session',
    },
  },
  {
    rpc: 'ProfileService.UpdateProfile',
    act: async (md) => {
      const user = await signedInUser();
      await call(
        profile(),
        'updateProfile',
        { profile: Profile.fromPartial({ phoneNumber: PHONE, bio: 'catalogue bio' }), updateMask: ['phone_number', 'bio'] },
        withToken(md, user.accessToken),
      );
      return { subject: user.user!.id, secrets: [user.password, user.accessToken, user.refreshToken, PHONE, 'catalogue bio'] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_PROFILE_UPDATED,
      typeName: 'profile.updated',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'profileUpdated',
    },
  },
  {
    rpc: 'AuthService.RevokeSession',
    act: async (md) => {
      const user = await signedInUser();
      const other = await call(auth(), 'login', { email: user.email, password: user.password });
      const sessionId = decodeJwt(other.tokens!.accessToken).sid as string;
      await call(auth(), 'revokeSession', { sessionId }, withToken(md, user.accessToken));
      return {
        subject: user.user!.id,
        secrets: [...userSecrets(user), other.tokens!.accessToken, other.tokens!.refreshToken],
        details: { sessionId },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SESSION_REVOKED,
      typeName: 'session.revoked',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'session',
    },
  },
  {
    rpc: 'AuthService.RevokeAllSessions',
    act: async (md) => {
      const user = await signedInUser();
      const other = await call(auth(), 'login', { email: user.email, password: user.password });
      const res = await call(auth(), 'revokeAllSessions', { keepCurrent: true }, withToken(md, user.accessToken));
      expect(res.sessionsRevoked).to.equal(1);
      return { subject: user.user!.id, secrets: [...userSecrets(user), other.tokens!.accessToken, other.tokens!.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SESSIONS_REVOKED_ALL,
      typeName: 'sessions.revoked_all',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['not_before', 'reason', 'sessions_revoked', 'kept_session_id'],
    },
  },
  {
    rpc: 'AuthService.RequestEmailVerification',
    act: async (md) => {
      const user = await signedInUser();
      await call(auth(), 'requestEmailVerification', {}, withToken(md, user.accessToken));
      const token = await tokenMailedTo(user.email);
      return { subject: user.user!.id, secrets: [...userSecrets(user), token, 'tev_'] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_EMAIL_VERIFICATION_REQUESTED,
      typeName: 'email_verification.requested',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: [],
    },
  },
  {
    rpc: 'AuthService.VerifyEmail (verification link)',
    act: async (md) => {
      const user = await signedInUser();
      await call(auth(), 'requestEmailVerification', {}, bearer(user.accessToken));
      const token = await tokenMailedTo(user.email);
      const res = await call(auth(), 'verifyEmail', { token }, md);
      expect(res.user!.emailVerified).to.equal(true);
      return { subject: user.user!.id, secrets: [...userSecrets(user), token] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_EMAIL_VERIFIED,
      typeName: 'email.verified',
      // The link proves control of the address, but the call is not signed in.
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: [],
      // The first proof of the address ends the sessions made before it (issue 9, attack 1).
      alsoWrites: ['sessions.revoked_all'],
    },
  },
  {
    rpc: 'AuthService.VerifyEmail (email change link)',
    act: async (md) => {
      const user = await signedInUser();
      const newEmail = uniqueEmail('cat-moved');
      await call(auth(), 'requestEmailChange', { newEmail, currentPassword: user.password }, bearer(user.accessToken));
      const token = await tokenMailedTo(newEmail);
      const res = await call(auth(), 'verifyEmail', { token }, md);
      expect(res.user!.email).to.equal(newEmail);
      // No addresses in the event (README: "none (no addresses)").
      return { subject: user.user!.id, secrets: [...userSecrets(user), token, user.email, newEmail] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_EMAIL_CHANGED,
      typeName: 'email.changed',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: [],
    },
  },
  {
    rpc: 'AuthService.RequestEmailChange',
    act: async (md) => {
      const user = await signedInUser();
      const newEmail = uniqueEmail('cat-moving');
      await call(auth(), 'requestEmailChange', { newEmail, currentPassword: user.password }, withToken(md, user.accessToken));
      const token = await tokenMailedTo(newEmail);
      return { subject: user.user!.id, secrets: [...userSecrets(user), token, 'tec_', user.email, newEmail] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_EMAIL_CHANGE_REQUESTED,
      typeName: 'email_change.requested',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: [],
    },
  },
  {
    rpc: 'AuthService.RequestPasswordReset (known address)',
    act: async (md) => {
      const { user, email, password } = await registerUser();
      await call(auth(), 'requestPasswordReset', { email }, md);
      const token = await tokenMailedTo(email);
      return { subject: user.id, secrets: [password, token, 'tpr_', email] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_PASSWORD_RESET_REQUESTED,
      typeName: 'password_reset.requested',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      metadataKeys: ['account_found'],
    },
  },
  {
    rpc: 'AuthService.RequestPasswordReset (unknown address)',
    act: async (md) => {
      const email = uniqueEmail('cat-nobody');
      await call(auth(), 'requestPasswordReset', { email }, md);
      return { subject: null, secrets: [email] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_PASSWORD_RESET_REQUESTED,
      typeName: 'password_reset.requested',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      metadataKeys: ['account_found'],
    },
  },
  {
    rpc: 'AuthService.ResetPassword',
    act: async (md) => {
      const user = await signedInUser();
      await call(auth(), 'requestPasswordReset', { email: user.email });
      const token = await tokenMailedTo(user.email);
      const res = await call(auth(), 'resetPassword', { token, newPassword: NEW_PASSWORD }, md);
      expect(res.sessionsRevoked).to.equal(1);
      return { subject: user.user!.id, secrets: [...userSecrets(user), token, NEW_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_PASSWORD_RESET_COMPLETED,
      typeName: 'password_reset.completed',
      // The reset link proves control of the address, but the call is not signed in.
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['sessions_revoked'],
      // The reset ends the user's session (README: sessions.revoked_all with not_before).
      alsoWrites: ['sessions.revoked_all'],
    },
  },
  {
    rpc: 'AuthService.ChangePassword',
    act: async (md) => {
      const user = await signedInUser();
      await call(
        auth(),
        'changePassword',
        { currentPassword: user.password, newPassword: NEW_PASSWORD },
        withToken(md, user.accessToken),
      );
      return { subject: user.user!.id, secrets: [...userSecrets(user), NEW_PASSWORD] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_PASSWORD_CHANGED,
      typeName: 'password.changed',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['sessions_revoked'],
      // Every other session ends (README: sessions.revoked_all keeping the caller's).
      alsoWrites: ['sessions.revoked_all'],
    },
  },
  {
    rpc: 'AuthService.Reauthenticate',
    act: async (md) => {
      const user = await signedInUser();
      const res = await call(
        auth(),
        'reauthenticate',
        { currentPassword: user.password, code: '' },
        withToken(md, user.accessToken),
      );
      return { subject: user.user!.id, secrets: [...userSecrets(user), res.accessToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_REAUTHENTICATION_SUCCEEDED,
      typeName: 'reauthentication.succeeded',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'session',
      metadataKeys: ['amr', 'acr'],
    },
  },
  {
    rpc: 'AuthService.LoginWithProvider (linked account)',
    act: async (md) => {
      const sub = newSubject();
      const email = uniqueEmail('cat-oidc');
      const firstToken = await oidc.provider.idToken(sub, { email, email_verified: true });
      const first = await call(oidc.server.auth, 'loginWithProvider', { provider: IDP, idToken: firstToken });
      expect(first.created).to.equal(true);
      const idToken = await oidc.provider.idToken(sub, { email, email_verified: true, nonce: 'second' });
      const res = await call(oidc.server.auth, 'loginWithProvider', { provider: IDP, idToken }, md);
      expect(res.created).to.equal(false);
      return {
        subject: res.user!.id,
        secrets: [
          firstToken,
          idToken,
          first.tokens!.accessToken,
          first.tokens!.refreshToken,
          res.tokens!.accessToken,
          res.tokens!.refreshToken,
        ],
        details: { method: `oidc:${IDP}`, sessionId: decodeJwt(res.tokens!.accessToken).sid },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED,
      typeName: 'login.succeeded',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'login',
    },
  },
  {
    rpc: 'AuthService.LoginWithProvider (first sign-in creates the account)',
    act: async (md) => {
      const idToken = await oidc.provider.idToken(newSubject(), { email: uniqueEmail('cat-oidc-new'), email_verified: true });
      const res = await call(oidc.server.auth, 'loginWithProvider', { provider: IDP, idToken }, md);
      expect(res.created).to.equal(true);
      return {
        subject: res.user!.id,
        secrets: [idToken, res.tokens!.accessToken, res.tokens!.refreshToken],
        details: { method: `oidc:${IDP}`, sessionId: decodeJwt(res.tokens!.accessToken).sid },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED,
      typeName: 'login.succeeded',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'login',
      alsoWrites: ['user.registered', 'social_login.linked'],
    },
  },
  {
    rpc: 'IdentityService.UpdateUser (role, by an admin)',
    act: async (md) => {
      const admin = await freshAdmin();
      const { user, password } = await registerUser();
      await call(
        identity(),
        'updateUser',
        { user: User.fromPartial({ id: user.id, role: Role.ROLE_AUDITOR }), updateMask: ['role'] },
        withToken(md, admin.accessToken),
      );
      return {
        subject: user.id,
        actorId: admin.user!.id,
        secrets: [...userSecrets(admin), password],
        details: { oldRole: 'user', newRole: 'auditor' },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_ROLE_CHANGED,
      typeName: 'user.role_changed',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'roleChanged',
      // Access tokens carry the role: a role change ends them (README: sessions.revoked_all).
      alsoWrites: ['sessions.revoked_all'],
    },
  },
  {
    rpc: 'IdentityService.UpdateUser (app_metadata, by a service account)',
    act: async (md) => {
      const service = await serviceAccountKey(Role.ROLE_SERVICE);
      const { user, password } = await registerUser();
      await call(
        identity(),
        'updateUser',
        { user: User.fromPartial({ id: user.id, appMetadata: { plan: APP_METADATA_VALUE } }), updateMask: ['app_metadata'] },
        withToken(md, service.apiKey),
      );
      // Field names only: the values may be anything a backend stores.
      return { subject: user.id, actorId: service.id, secrets: [service.apiKey, password, APP_METADATA_VALUE] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_UPDATED,
      typeName: 'user.updated',
      actorType: ActorType.ACTOR_TYPE_SERVICE_ACCOUNT,
      actorIsSubject: false,
      metadataKeys: ['fields'],
    },
  },
  {
    rpc: 'IdentityService.SuspendUser (with an open session)',
    act: async (md) => {
      const admin = await freshAdmin();
      const target = await signedInUser();
      await call(
        identity(),
        'suspendUser',
        { userId: target.user!.id, reason: 'catalogue suspension' },
        withToken(md, admin.accessToken),
      );
      return {
        subject: target.user!.id,
        actorId: admin.user!.id,
        secrets: [...userSecrets(admin), ...userSecrets(target)],
        details: { reason: 'catalogue suspension' },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_SUSPENDED,
      typeName: 'user.suspended',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'statusChanged',
      // The suspension ends the target's session (README: sessions.revoked_all with not_before).
      alsoWrites: ['sessions.revoked_all'],
    },
  },
  {
    rpc: 'IdentityService.RevokeUserSessions',
    act: async (md) => {
      const admin = await freshAdmin();
      const target = await signedInUser();
      const other = await call(auth(), 'login', { email: target.email, password: target.password });
      const res = await call(identity(), 'revokeUserSessions', { userId: target.user!.id }, withToken(md, admin.accessToken));
      expect(res.sessionsRevoked).to.equal(2);
      return {
        subject: target.user!.id,
        actorId: admin.user!.id,
        secrets: [...userSecrets(admin), ...userSecrets(target), other.tokens!.accessToken, other.tokens!.refreshToken],
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SESSIONS_REVOKED_ALL,
      typeName: 'sessions.revoked_all',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      metadataKeys: ['not_before', 'reason', 'sessions_revoked'],
    },
  },
  {
    rpc: 'IdentityService.ReactivateUser (by a service account)',
    act: async (md) => {
      const service = await serviceAccountKey(Role.ROLE_SERVICE);
      const { user, password } = await registerUser();
      await call(identity(), 'suspendUser', { userId: user.id, reason: 'to be reactivated' }, bearer(admin));
      await call(identity(), 'reactivateUser', { userId: user.id }, withToken(md, service.apiKey));
      return { subject: user.id, actorId: service.id, secrets: [service.apiKey, password] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_REACTIVATED,
      typeName: 'user.reactivated',
      actorType: ActorType.ACTOR_TYPE_SERVICE_ACCOUNT,
      actorIsSubject: false,
      details: 'statusChanged',
    },
  },
  {
    rpc: 'IdentityService.DeleteUser (no open session)',
    act: async (md) => {
      const admin = await freshAdmin();
      const { user, password } = await registerUser();
      await call(identity(), 'deleteUser', { userId: user.id }, withToken(md, admin.accessToken));
      return { subject: user.id, actorId: admin.user!.id, secrets: [...userSecrets(admin), password] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_DELETED,
      typeName: 'user.deleted',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'statusChanged',
      metadataKeys: ['previous_status'],
      // With no session open, the not-before time still goes to backends.
      alsoWrites: ['sessions.revoked_all'],
    },
  },
  {
    rpc: 'IdentityService.UndeleteUser',
    act: async (md) => {
      const admin = await freshAdmin();
      const { user, password } = await registerUser();
      await call(identity(), 'deleteUser', { userId: user.id }, bearer(admin.accessToken));
      await call(identity(), 'undeleteUser', { userId: user.id }, withToken(md, admin.accessToken));
      return { subject: user.id, actorId: admin.user!.id, secrets: [...userSecrets(admin), password] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_UNDELETED,
      typeName: 'user.undeleted',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'statusChanged',
      metadataKeys: ['status'],
    },
  },
  {
    rpc: 'IdentityService.CreateServiceAccount',
    act: async (md) => {
      const admin = await freshAdmin();
      const name = `cat-svc-${randomBytes(6).toString('hex')}`;
      const res = await call(
        identity(),
        'createServiceAccount',
        { name, role: Role.ROLE_SERVICE, certificateIdentity: '' },
        withToken(md, admin.accessToken),
      );
      expect(res.apiKey).to.match(/^tsk_/);
      return {
        subject: null,
        actorId: admin.user!.id,
        secrets: [...userSecrets(admin), res.apiKey],
        details: { serviceAccountId: res.serviceAccount!.id, name, role: 'service' },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SERVICE_ACCOUNT_CREATED,
      typeName: 'service_account.created',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'serviceAccount',
      metadataKeys: ['api_key_prefix'],
    },
  },
  {
    rpc: 'IdentityService.DeleteServiceAccount',
    act: async (md) => {
      const admin = await freshAdmin();
      const service = await serviceAccountKey(Role.ROLE_SERVICE);
      await call(identity(), 'deleteServiceAccount', { serviceAccountId: service.id }, withToken(md, admin.accessToken));
      return {
        subject: null,
        actorId: admin.user!.id,
        secrets: [...userSecrets(admin), service.apiKey],
        details: { serviceAccountId: service.id, name: service.name },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SERVICE_ACCOUNT_DELETED,
      typeName: 'service_account.deleted',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'serviceAccount',
      metadataKeys: ['api_key_prefix'],
    },
  },
  {
    rpc: 'IdentityService.LinkSocialLogin',
    act: async (md) => {
      const user = await signedInUser();
      // Only an account whose address was proven may link a provider.
      await sql('update users set email_verified_at = now() where id = $1', [user.user!.id]);
      const idToken = await oidc.provider.idToken(newSubject(), { email: uniqueEmail('cat-link'), email_verified: true });
      await call(oidc.server.identity, 'linkSocialLogin', { provider: IDP, idToken }, withToken(md, user.accessToken));
      return { subject: user.user!.id, secrets: [...userSecrets(user), idToken], details: { provider: IDP } };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SOCIAL_LOGIN_LINKED,
      typeName: 'social_login.linked',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'socialLogin',
      metadataKeys: ['subject', 'via'],
    },
  },
  {
    rpc: 'IdentityService.UnlinkSocialLogin',
    act: async (md) => {
      const user = await signedInUser();
      // Only an account whose address was proven may link a provider.
      await sql('update users set email_verified_at = now() where id = $1', [user.user!.id]);
      const idToken = await oidc.provider.idToken(newSubject(), { email: uniqueEmail('cat-unlink'), email_verified: true });
      await call(oidc.server.identity, 'linkSocialLogin', { provider: IDP, idToken }, bearer(user.accessToken));
      await call(oidc.server.identity, 'unlinkSocialLogin', { provider: IDP }, withToken(md, user.accessToken));
      return { subject: user.user!.id, secrets: [...userSecrets(user), idToken], details: { provider: IDP } };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SOCIAL_LOGIN_UNLINKED,
      typeName: 'social_login.unlinked',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'socialLogin',
      metadataKeys: ['subject'],
    },
  },
  {
    rpc: 'ComplianceService.ExportUserData',
    act: async (md) => {
      const admin = await freshAdmin();
      const { user, password } = await registerUser({ fullName: 'Catalogue Exported' });
      await exportToEnd(user.id, withToken(md, admin.accessToken));
      return { subject: user.id, actorId: admin.user!.id, secrets: [...userSecrets(admin), password, 'Catalogue Exported'] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_USER_EXPORTED,
      typeName: 'user.exported',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      metadataKeys: [],
    },
  },
  {
    // Last: it rotates the shared server's signing key (tokens signed before stay valid, the retired key stays published).
    rpc: 'AuthService.RotateSigningKey (immediate)',
    act: async (md) => {
      const admin = await freshAdmin();
      const res = await call(auth(), 'rotateSigningKey', { immediate: true }, withToken(md, admin.accessToken));
      expect(res.promoted).to.equal(true);
      const sealed = await sql<{ private_jwk_ciphertext: string }>(
        'select private_jwk_ciphertext from signing_keys where kid = any($1)',
        [[res.activeKid, res.nextKid, res.retiredKid]],
      );
      expect(sealed).to.have.length(3);
      return {
        subject: null,
        actorId: admin.user!.id,
        secrets: [...userSecrets(admin), ...sealed.map((k) => k.private_jwk_ciphertext)],
        details: { kid: res.activeKid, alg: 'EdDSA', retiredKid: res.retiredKid, nextKid: res.nextKid },
      };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_SIGNING_KEY_ROTATED,
      typeName: 'signing_key.rotated',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      details: 'signingKey',
      metadataKeys: ['immediate'],
      // The rotation publishes a new next key, which is recorded as signing_key.created.
      alsoWrites: ['signing_key.created'],
    },
  },
  {
    rpc: 'AuthService.EnrollTotp',
    act: async (md) => {
      const user = await signedInUser();
      const res = await call(auth(), 'enrollTotp', {}, withToken(md, user.accessToken));
      return { subject: user.user!.id, secrets: [...userSecrets(user), res.secret] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_TOTP_ENROLLED,
      typeName: 'mfa.totp_enrolled',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['replaced_pending'],
    },
  },
  {
    rpc: 'AuthService.ConfirmTotp',
    act: async (md) => {
      const user = await signedInUser();
      const { secret } = await call(auth(), 'enrollTotp', {}, bearer(user.accessToken));
      const code = await nextTotpCode(secret);
      const res = await call(auth(), 'confirmTotp', { code }, withToken(md, user.accessToken));
      return { subject: user.user!.id, secrets: [...userSecrets(user), secret, code, ...res.recoveryCodes] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_TOTP_CONFIRMED,
      typeName: 'mfa.totp_confirmed',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['recovery_codes'],
    },
  },
  {
    rpc: 'AuthService.DisableTotp',
    act: async (md) => {
      const user = await userWithTotp();
      const code = await nextTotpCode(user.secret);
      await call(auth(), 'disableTotp', { code, currentPassword: user.password }, withToken(md, user.accessToken));
      return { subject: user.user!.id, secrets: [...totpUserSecrets(user), code] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_TOTP_DISABLED,
      typeName: 'mfa.totp_disabled',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['recovery_codes_removed'],
    },
  },
  {
    rpc: 'AuthService.RegenerateRecoveryCodes',
    act: async (md) => {
      const user = await userWithTotp();
      const code = await nextTotpCode(user.secret);
      const res = await call(auth(), 'regenerateRecoveryCodes', { code }, withToken(md, user.accessToken));
      return { subject: user.user!.id, secrets: [...totpUserSecrets(user), code, ...res.recoveryCodes] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_RECOVERY_CODES_REGENERATED,
      typeName: 'mfa.recovery_codes_regenerated',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['recovery_codes'],
    },
  },
  {
    rpc: 'AuthService.Login (second factor pending)',
    act: async (md) => {
      const user = await userWithTotp();
      const res = await call(auth(), 'login', { email: user.email, password: user.password }, md);
      return { subject: user.user!.id, secrets: [...totpUserSecrets(user), res.mfaChallenge!.challengeId] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_CHALLENGE_ISSUED,
      typeName: 'mfa.challenge_issued',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      metadataKeys: ['challenge', 'method', 'methods'],
    },
  },
  {
    rpc: 'AuthService.CompleteMfaLogin',
    act: async (md) => {
      const { user, challengeId, secrets } = await challengedUser();
      const code = await nextTotpCode(user.secret);
      const res = await call(auth(), 'completeMfaLogin', { challengeId, code, recoveryCode: '' }, md);
      return { subject: user.user!.id, secrets: [...secrets, code, res.tokens!.accessToken, res.tokens!.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_LOGIN_SUCCEEDED,
      typeName: 'login.succeeded',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: true,
      details: 'login',
      metadataKeys: ['mfa_method'],
    },
  },
  {
    rpc: 'AuthService.CompleteMfaLogin (wrong code)',
    act: async (md) => {
      const { user, challengeId, secrets } = await challengedUser();
      const right = await nextTotpCode(user.secret);
      const wrong = right === '000000' ? '111111' : '000000';
      await expectRpcError(
        call(auth(), 'completeMfaLogin', { challengeId, code: wrong, recoveryCode: '' }, md),
        status.UNAUTHENTICATED,
      );
      return { subject: user.user!.id, secrets: [...secrets, wrong] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_VERIFICATION_FAILED,
      typeName: 'mfa.verification_failed',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      metadataKeys: ['operation', 'method', 'reason'],
    },
  },
  {
    rpc: 'AuthService.CompleteMfaLogin (recovery code)',
    act: async (md) => {
      const { user, challengeId, secrets } = await challengedUser();
      const res = await call(auth(), 'completeMfaLogin', { challengeId, code: '', recoveryCode: user.recoveryCodes[0]! }, md);
      return { subject: user.user!.id, secrets: [...secrets, res.tokens!.refreshToken] };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_RECOVERY_CODE_USED,
      typeName: 'mfa.recovery_code_used',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      metadataKeys: ['operation', 'remaining'],
      alsoWrites: ['login.succeeded'],
    },
  },
  {
    rpc: 'AuthService.EnrollTotpForChallenge',
    act: async (md) => {
      const server = await startSiblingServer({ MFA_REQUIRED_ROLES: 'auditor' });
      try {
        const { user, email, password } = await registerUser();
        await sql(`update users set role = 'auditor' where id = $1`, [user.id]);
        const { challengeId } = (await call(server.auth, 'login', { email, password })).mfaChallenge!;
        const res = await call(server.auth, 'enrollTotpForChallenge', { challengeId }, md);
        return { subject: user.id, secrets: [password, challengeId, res.secret] };
      } finally {
        await server.close();
      }
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_TOTP_ENROLLED,
      typeName: 'mfa.totp_enrolled',
      actorType: ActorType.ACTOR_TYPE_ANONYMOUS,
      actorIsSubject: false,
      metadataKeys: ['replaced_pending'],
    },
  },
  {
    rpc: 'IdentityService.ResetUserMfa',
    act: async (md) => {
      const admin = await freshAdmin();
      const target = await userWithTotp();
      await call(identity(), 'resetUserMfa', { userId: target.user!.id }, withToken(md, admin.accessToken));
      const secrets = [...userSecrets(admin), ...totpUserSecrets(target)];
      return { subject: target.user!.id, actorId: admin.user!.id, secrets };
    },
    expect: {
      type: AuditEventType.AUDIT_EVENT_TYPE_MFA_RESET,
      typeName: 'mfa.reset',
      actorType: ActorType.ACTOR_TYPE_USER,
      actorIsSubject: false,
      metadataKeys: ['totp_removed', 'recovery_codes_removed'],
      alsoWrites: ['sessions.revoked_all'],
    },
  },
];

/** RPCs that change nothing and so must write no event. */
const READ_ONLY = [
  'AuthService.GetJwks',
  'AuthService.IntrospectToken',
  'AuthService.ListSessions',
  'ProfileService.GetProfile',
  'ComplianceService.ListAuditEvents',
  'ComplianceService.StreamAuditEvents',
  'ComplianceService.GetErasureReceipt',
  'IdentityService.GetUser',
  'IdentityService.ListUsers',
  'IdentityService.ListServiceAccounts',
  'IdentityService.ListSocialLogins',
];

/**
 * RPCs whose event deliberately carries no client address or agent (so not a
 * CASE, which checks them): user.erased holds nothing personal of anyone.
 * Tested below.
 */
const WITHOUT_CLIENT_FACTS = ['ComplianceService.EraseUser'];

/** Secrets or secret-shaped strings that must never appear in an event. */
const ALWAYS_FORBIDDEN = ['$argon2', 'tsr_', DEFAULT_PASSWORD];

let client: ComplianceServiceClient;
let admin: string;

async function rowsOfRequest(requestId: string) {
  return sql<{ id: string; type: string; row: string }>(
    'select id::text as id, type, row_to_json(e)::text as row from audit_events e where request_id = $1 order by id',
    [requestId],
  );
}

/** The event with `id` through ListAuditEvents, found by subject (or by type, newest first, for subject-less events). */
async function eventThroughApi(id: string, subject: string | null, type: AuditEventType): Promise<AuditEvent | undefined> {
  const request = ListAuditEventsRequest.fromPartial({
    filter: { subjectUserId: subject ?? '', types: [type] },
    order: AuditEventOrder.AUDIT_EVENT_ORDER_NEWEST_FIRST,
    pageSize: 200,
  });
  const md = new Metadata();
  md.set('authorization', `Bearer ${admin}`);
  const res = await call(client, 'listAuditEvents', request, md);
  return res.events.find((e) => e.id === id);
}

function rpcNames(service: Record<string, { path: string }>): string[] {
  return Object.values(service).map((m) => m.path.replace(/^\/tessera\.v1\./, '').replace('/', '.'));
}

describe('Audit events of every RPC', () => {
  before(async function () {
    this.timeout(60_000);
    client = complianceClient();
    admin = await adminToken();
    oidc = await startOidcTestSetup();
  });

  after(async function () {
    this.timeout(30_000);
    client.close();
    await oidc?.close();
  });

  // The MFA cases move the shared server's clock to make fresh codes (test/helpers/mfa.ts).
  afterEach(() => harness().server.clock.reset());

  it('the table covers every RPC of every service (state-changing or read-only)', () => {
    const all = [AuthServiceService, ProfileServiceService, ComplianceServiceService, IdentityServiceService].flatMap((s) =>
      rpcNames(s as Record<string, { path: string }>),
    );
    const covered = new Set([...CASES.map((c) => c.rpc.replace(/ \(.*\)$/, '')), ...READ_ONLY, ...WITHOUT_CLIENT_FACTS]);
    expect(
      all.filter((rpc) => !covered.has(rpc)),
      'RPCs without a catalogue case',
    ).to.deep.equal([]);
  });

  it('ComplianceService.EraseUser writes one user.erased event with ids, reason and counts, and no client facts', async () => {
    const user = await signedInUser({ fullName: 'Catalogue Erased' });
    const requestId = `cat-${randomUUID()}`;
    await call(
      client,
      'eraseUser',
      { userId: user.user!.id, reason: 'catalogue_case', currentPassword: user.password },
      requestMetadata(requestId, user.accessToken),
    );

    const rows = await rowsOfRequest(requestId);
    expect(rows.map((r) => r.type)).to.deep.equal(['user.erased']);
    const event = await eventThroughApi(rows[0].id, user.user!.id, AuditEventType.AUDIT_EVENT_TYPE_USER_ERASED);
    expect(event).to.include({ subjectUserId: user.user!.id, requestId, ip: '', userAgent: '' });
    expect(event!.metadata).to.include({ reason: 'catalogue_case' });
    for (const secret of [...ALWAYS_FORBIDDEN, user.email, 'Catalogue Erased']) expect(rows[0].row).to.not.include(secret);
  });

  for (const c of CASES) {
    const besides = c.expect.alsoWrites ? ` (besides ${c.expect.alsoWrites.join(', ')})` : '';
    it(`${c.rpc} writes one ${c.expect.typeName} event${besides} with the call's facts and no secret`, async () => {
      const requestId = `cat-${randomUUID()}`;
      const acted = await c.act(requestMetadata(requestId));

      const rows = await rowsOfRequest(requestId);
      expect(
        rows.map((r) => r.type),
        `events with request id ${requestId}`,
      ).to.have.members([c.expect.typeName, ...(c.expect.alsoWrites ?? [])]);
      const row = rows.find((r) => r.type === c.expect.typeName)!;
      const event = await eventThroughApi(row.id, acted.subject, c.expect.type);
      expect(event, 'the event through ListAuditEvents').to.not.equal(undefined);

      expect(event!.id).to.match(/^[1-9][0-9]*$/);
      expect(event!.type).to.equal(c.expect.type);
      expect(event!.typeName).to.equal(c.expect.typeName);
      expect(event!.requestId).to.equal(requestId);
      expect(event!.ip).to.equal('127.0.0.1');
      expect(event!.userAgent).to.match(/^grpc-node-js\//);
      expect(event!.occurredAt).to.be.instanceOf(Date);
      expect(event!.subjectUserId).to.equal(acted.subject ?? '');
      const named =
        c.expect.actorType === ActorType.ACTOR_TYPE_USER || c.expect.actorType === ActorType.ACTOR_TYPE_SERVICE_ACCOUNT;
      if (named && !c.expect.actorIsSubject)
        expect(acted.actorId, 'the case names the calling actor').to.be.a('string').and.not.equal('');
      expect(event!.actor).to.deep.equal({
        type: c.expect.actorType,
        id: c.expect.actorIsSubject ? acted.subject : (acted.actorId ?? ''),
      });
      if (c.expect.details) {
        expect(event!.details?.$case).to.equal(c.expect.details);
        // Only what the typed details do not carry stays in metadata.
        expect(Object.keys(event!.metadata ?? {})).to.have.members(c.expect.metadataKeys ?? []);
        if (acted.details) expect(event!.details!.value).to.deep.include(acted.details);
      } else {
        expect(event!.details).to.equal(undefined);
        expect(Object.keys(event!.metadata ?? {})).to.have.members(c.expect.metadataKeys ?? []);
      }

      const texts: Record<string, string> = { api: JSON.stringify(event) };
      for (const r of rows) texts[`row ${r.type}`] = r.row;
      for (const [where, text] of Object.entries(texts)) {
        for (const secret of [...ALWAYS_FORBIDDEN, ...acted.secrets]) {
          expect(text.includes(secret), `${where} JSON contains the secret ${secret.slice(0, 12)}…`).to.equal(false);
        }
      }
    });
  }

  it('the typed details hold the right values', async () => {
    const user = await signedInUser();
    const [session] = await sql<{ id: string }>('select id from sessions where user_id = $1', [user.user!.id]);
    await call(auth(), 'refreshToken', { refreshToken: user.refreshToken }, requestMetadata(`cat-${randomUUID()}`));
    const refreshed = await eventThroughApi(
      (
        await sql<{ id: string }>(
          "select id::text as id from audit_events where subject_user_id = $1 and type = 'token.refreshed'",
          [user.user!.id],
        )
      )[0].id,
      user.user!.id,
      AuditEventType.AUDIT_EVENT_TYPE_TOKEN_REFRESHED,
    );
    expect(refreshed!.details).to.deep.equal({ $case: 'session', value: { sessionId: session.id, reason: '' } });

    const ghostId = `cat-${randomUUID()}`;
    await expectRpcError(
      call(auth(), 'login', { email: uniqueEmail('ghost'), password: WRONG_PASSWORD }, requestMetadata(ghostId)),
      status.UNAUTHENTICATED,
    );
    const [ghostRow] = await rowsOfRequest(ghostId);
    const ghost = await eventThroughApi(ghostRow.id, null, AuditEventType.AUDIT_EVENT_TYPE_LOGIN_FAILED);
    expect(ghost!.details).to.deep.equal({ $case: 'loginFailed', value: { method: 'password', reason: 'unknown_account' } });
  });

  describe('read-only RPCs write no event', () => {
    const expectNoEvent = async (requestId: string) => expect(await rowsOfRequest(requestId)).to.have.length(0);

    it('AuthService.GetJwks', async () => {
      const requestId = `ro-${randomUUID()}`;
      await call(auth(), 'getJwks', {}, requestMetadata(requestId));
      await expectNoEvent(requestId);
    });

    it('AuthService.IntrospectToken', async () => {
      const user = await signedInUser();
      const requestId = `ro-${randomUUID()}`;
      const res = await call(auth(), 'introspectToken', { token: user.accessToken }, requestMetadata(requestId));
      expect(res.active).to.equal(true);
      await expectNoEvent(requestId);
    });

    it('AuthService.ListSessions', async () => {
      const user = await signedInUser();
      const requestId = `ro-${randomUUID()}`;
      const res = await call(
        auth(),
        'listSessions',
        { pageSize: 0, pageToken: '' },
        requestMetadata(requestId, user.accessToken),
      );
      expect(res.sessions).to.have.length(1);
      await expectNoEvent(requestId);
    });

    it('IdentityService.GetUser', async () => {
      const user = await signedInUser();
      const requestId = `ro-${randomUUID()}`;
      await call(harness().server.identity, 'getUser', { userId: user.user!.id }, requestMetadata(requestId, admin));
      await expectNoEvent(requestId);
    });

    it('IdentityService.ListUsers', async () => {
      const requestId = `ro-${randomUUID()}`;
      const res = await call(
        harness().server.identity,
        'listUsers',
        ListUsersRequest.fromPartial({ pageSize: 5 }),
        requestMetadata(requestId, admin),
      );
      expect(res.users).to.not.be.empty;
      await expectNoEvent(requestId);
    });

    it('IdentityService.ListServiceAccounts', async () => {
      const requestId = `ro-${randomUUID()}`;
      await call(
        harness().server.identity,
        'listServiceAccounts',
        { pageSize: 5, pageToken: '' },
        requestMetadata(requestId, admin),
      );
      await expectNoEvent(requestId);
    });

    it('IdentityService.ListSocialLogins', async () => {
      const user = await signedInUser();
      const requestId = `ro-${randomUUID()}`;
      await call(harness().server.identity, 'listSocialLogins', { userId: '' }, requestMetadata(requestId, user.accessToken));
      await expectNoEvent(requestId);
    });

    it('ProfileService.GetProfile', async () => {
      const user = await signedInUser();
      const requestId = `ro-${randomUUID()}`;
      await call(profile(), 'getProfile', { userId: '' }, requestMetadata(requestId, user.accessToken));
      await expectNoEvent(requestId);
    });

    it('ComplianceService.ListAuditEvents', async () => {
      const requestId = `ro-${randomUUID()}`;
      await call(
        client,
        'listAuditEvents',
        ListAuditEventsRequest.fromPartial({ pageSize: 10 }),
        requestMetadata(requestId, admin),
      );
      await expectNoEvent(requestId);
    });

    it('ComplianceService.StreamAuditEvents', async () => {
      const requestId = `ro-${randomUUID()}`;
      const stream = client.streamAuditEvents({ afterEventId: undefined, filter: undefined }, requestMetadata(requestId, admin));
      const ended = new Promise<status | undefined>((resolve) => {
        stream.on('error', (err: ServiceError) => resolve(err.code));
        stream.on('end', () => resolve(undefined));
      });
      stream.on('data', () => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
      stream.cancel();
      expect(await ended).to.equal(status.CANCELLED);
      await expectNoEvent(requestId);
    });
  });

  describe('failed calls write nothing (nothing half-written)', () => {
    it('AuthService.Register with a taken email', async () => {
      const { email } = await registerUser();
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(auth(), 'register', { email, password: DEFAULT_PASSWORD, fullName: 'Duplicate' }, requestMetadata(requestId)),
        status.ALREADY_EXISTS,
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
      expect(await sql('select id from users where email_index = $1', [emailIndexOf(email)])).to.have.length(1);
    });

    it('AuthService.Register with invalid input', async () => {
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(auth(), 'register', { email: 'not an email', password: 'short', fullName: '' }, requestMetadata(requestId)),
        status.INVALID_ARGUMENT,
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
    });

    it('ProfileService.UpdateProfile with an invalid phone number', async () => {
      const user = await signedInUser();
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(
          profile(),
          'updateProfile',
          {
            profile: Profile.fromPartial({ phoneNumber: 'call me maybe', bio: 'should not be saved' }),
            updateMask: ['phone_number', 'bio'],
          },
          requestMetadata(requestId, user.accessToken),
        ),
        status.INVALID_ARGUMENT,
        { fields: ['profile.phone_number'] },
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
      const [row] = await sql<{ bio: string }>('select bio from user_profiles where user_id = $1', [user.user!.id]);
      expect(row.bio).to.equal('');
      const events = await sql("select id from audit_events where subject_user_id = $1 and type = 'profile.updated'", [
        user.user!.id,
      ]);
      expect(events).to.have.length(0);
    });

    it('AuthService.RefreshToken with an unknown token', async () => {
      const requestId = `fail-${randomUUID()}`;
      await expectRpcError(
        call(auth(), 'refreshToken', { refreshToken: `tsr_${'x'.repeat(43)}` }, requestMetadata(requestId)),
        status.UNAUTHENTICATED,
      );
      expect(await rowsOfRequest(requestId)).to.have.length(0);
    });
  });

  describe('the catalogue mapping (domain <-> proto)', () => {
    const domainTypes = Object.values(DomainAuditEventType);
    const protoValues = Object.values(AuditEventType).filter((v): v is AuditEventType => typeof v === 'number');

    it('maps every domain type to a proto value and back', () => {
      const seen = new Set<AuditEventType>();
      for (const name of domainTypes) {
        const value = auditTypeToProto(name);
        expect(value, name).to.not.equal(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED);
        expect(value, name).to.not.equal(AuditEventType.UNRECOGNIZED);
        expect(auditTypeFromProto(value), name).to.equal(name);
        expect(seen.has(value), `${name} shares its proto value`).to.equal(false);
        seen.add(value);
      }
    });

    it('maps every proto value except UNSPECIFIED and UNRECOGNIZED to a domain type', () => {
      const unmapped: string[] = [];
      for (const value of protoValues) {
        if (value === AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED || value === AuditEventType.UNRECOGNIZED) continue;
        const name = auditTypeFromProto(value);
        if (!name || !(domainTypes as string[]).includes(name)) unmapped.push(AuditEventType[value]);
      }
      expect(unmapped).to.deep.equal([]);
      expect(protoValues.length - 2).to.equal(domainTypes.length);
    });

    it('maps UNSPECIFIED, UNRECOGNIZED and unknown numbers to nothing, unknown names to UNSPECIFIED', () => {
      expect(auditTypeFromProto(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED)).to.equal(undefined);
      expect(auditTypeFromProto(AuditEventType.UNRECOGNIZED)).to.equal(undefined);
      expect(auditTypeFromProto(9999 as AuditEventType)).to.equal(undefined);
      expect(auditTypeToProto('no.such_type')).to.equal(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED);
      expect(auditTypeToProto('')).to.equal(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED);
    });
  });
});
