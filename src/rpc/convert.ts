import type {
  ServiceAccount as ServiceAccountRow,
  SocialLogin as SocialLoginRow,
  User as UserRow,
  UserRole,
  UserStatus as StatusName,
} from '../db/index.js';
import type { ProfileView } from '../domain/profiles.js';
import type { IssuedTokens } from '../domain/sessions.js';
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

/** Entity -> proto. Never copies the password hash or anything else credential-like. */
export function toUserMessage(user: UserRow): User {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt != null,
    role: ROLES[user.role as UserRole],
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
  };
}

export function toSocialLoginMessage(link: SocialLoginRow): SocialLogin {
  return {
    provider: link.provider,
    subject: link.providerSubject,
    email: link.email ?? '',
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
