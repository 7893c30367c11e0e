import type {
  ServiceAccount as ServiceAccountRow,
  SocialLogin as SocialLoginRow,
  User as UserRow,
  UserRole,
  UserStatus as StatusName,
} from '../db/index.js';
import type { Introspection } from '../domain/auth/authentication.js';
import type { ProfileView } from '../domain/profile/profiles.js';
import type { SessionView } from '../domain/auth/session-management.js';
import type { OpenedSocialLogin } from '../domain/auth/provider-identity.js';
import type { IntrospectTokenResponse } from '../gen/tessera/v1/auth_service.js';
import type { Session } from '../gen/tessera/v1/session.js';
import type { IssuedTokens } from '../domain/auth/sign-in.js';
import type { Profile } from '../gen/tessera/v1/profile.js';
import type { ServiceAccount } from '../gen/tessera/v1/service_account.js';
import type { SocialLogin } from '../gen/tessera/v1/social_login.js';
import type { TokenPair } from '../gen/tessera/v1/token.js';
import { Role, UserStatus, type User } from '../gen/tessera/v1/user.js';

const ROLES: Record<UserRole, Role> = {
  user: Role.ROLE_USER,
  admin: Role.ROLE_ADMIN,
  auditor: Role.ROLE_AUDITOR,
  service: Role.ROLE_SERVICE,
};

const STATUSES: Record<StatusName, UserStatus> = {
  active: UserStatus.USER_STATUS_ACTIVE,
  suspended: UserStatus.USER_STATUS_SUSPENDED,
  deleted: UserStatus.USER_STATUS_DELETED,
};

function toRole(role: UserRole): Role {
  return ROLES[role];
}

/** The fields of an account a User message shows (an ORM entity, or a sign-in's prepared read). */
type UserFields = Pick<
  UserRow,
  'id' | 'role' | 'status' | 'emailVerifiedAt' | 'createdAt' | 'updatedAt' | 'lastLoginAt' | 'appMetadata' | 'deletedAt'
>;

/** Entity -> proto, with the address opened by the caller. Never copies the password hash or anything else credential-like. */

export function toUserMessage(user: UserFields, email: string): User {
  return {
    id: user.id,
    email,
    emailVerified: user.emailVerifiedAt != null,
    role: toRole(user.role as UserRole),
    status: STATUSES[user.status as StatusName],
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    lastLoginAt: user.lastLoginAt ?? undefined,
    appMetadata: user.appMetadata ?? {},
    deletedAt: user.deletedAt ?? undefined,
  };
}

/**
 * Proto -> domain role name: '' for ROLE_UNSPECIFIED, and a name no role has
 * for an unknown number, so the domain refuses it rather than defaulting.
 */
export function fromRoleMessage(role: Role): string {
  if (role === Role.ROLE_UNSPECIFIED) return '';
  return (Object.keys(ROLES) as UserRole[]).find((name) => ROLES[name] === role) ?? `unknown(${role})`;
}

/** Entity -> proto. The API key hash never leaves the server; only its display prefix does. */
export function toServiceAccountMessage(account: ServiceAccountRow): ServiceAccount {
  return {
    id: account.id,
    name: account.name,
    role: ROLES[account.role as UserRole],
    apiKeyPrefix: account.apiKeyPrefix,
    createdAt: account.createdAt,
    lastUsedAt: account.lastUsedAt ?? undefined,
    certificateIdentity: account.certificateIdentity ?? '',
  };
}

/** Entity -> proto, with the subject and the provider-asserted address opened by the caller. */
export function toSocialLoginMessage(link: SocialLoginRow, opened: OpenedSocialLogin): SocialLogin {
  return {
    provider: link.provider,
    subject: opened.subject,
    email: opened.email,
    createdAt: link.createdAt,
    lastLoginAt: link.lastLoginAt ?? undefined,
  };
}

export function toProfileMessage(profile: ProfileView): Profile {
  return { ...profile };
}

export function toTokenPair(tokens: IssuedTokens): TokenPair {
  return { ...tokens, tokenType: 'Bearer' };
}

export function toSessionMessage(session: SessionView): Session {
  return {
    id: session.id,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    expiresAt: session.expiresAt,
    ipAddress: session.ip ?? '',
    userAgent: session.userAgent ?? '',
    current: session.current,
  };
}

/** An inactive token gets `active: false` and every other field empty. */
export function toIntrospection(result: Introspection): IntrospectTokenResponse {
  if (!result.active)
    return {
      active: false,
      subject: '',
      sessionId: '',
      role: Role.ROLE_UNSPECIFIED,
      tokenId: '',
      expiresAt: undefined,
      issuedAt: undefined,
      authTime: undefined,
      amr: [],
      acr: '',
    };
  return {
    active: true,
    subject: result.subject,
    sessionId: result.sessionId,
    role: toRole(result.role),
    tokenId: result.tokenId,
    expiresAt: result.expiresAt,
    issuedAt: result.issuedAt,
    // A token signed before auth_time existed counts as authenticated at the epoch: say "unknown".
    authTime: result.authTime.getTime() > 0 ? result.authTime : undefined,
    amr: result.amr,
    acr: result.acr,
  };
}
