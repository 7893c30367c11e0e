// Checking an ID token of a configured provider and recording a link to it: shared by provider sign-in and link management.
import { v7 as uuidv7 } from 'uuid';
import { SocialLogin, User } from '../../db/index.js';
import { InvalidIdTokenError, ProviderUnavailableError, type IdTokenClaims } from '../../crypto/oidc.js';
import { FULL_NAME_MAX_LENGTH } from './registration.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { DomainDeps } from '../kernel/operation.js';
import type { FieldCipher } from '../../crypto/field-cipher.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { openField, sealField } from '../kernel/user-data-keys.js';
import { type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkText } from '../kernel/validation.js';

const ID_TOKEN_MAX_LENGTH = 16 * 1024;

export const PROVIDER_NAME_MAX_LENGTH = 32;

export function checkProviderRequest(deps: DomainDeps, input: { provider: string; idToken: string }, errorId: string): void {
  const violations = new Violations();
  if (input.provider === '') violations.add('provider', 'is required');
  else if (!deps.oidc.has(input.provider)) {
    const names = deps.oidc.names();
    violations.add(
      'provider',
      `unknown provider "${input.provider.slice(0, PROVIDER_NAME_MAX_LENGTH)}"; configured: ${names.length ? names.join(', ') : 'none'}`,
    );
  }
  if (input.idToken === '') violations.add('id_token', 'is required');
  else if (input.idToken.length > ID_TOKEN_MAX_LENGTH)
    violations.add('id_token', `must be at most ${ID_TOKEN_MAX_LENGTH} characters`);
  violations.throwIfAny(errorId);
}

export async function verifyIdToken(deps: DomainDeps, input: { provider: string; idToken: string }): Promise<IdTokenClaims> {
  try {
    return await deps.oidc.verify(input.provider, input.idToken, deps.clock.now());
  } catch (err) {
    if (err instanceof InvalidIdTokenError) {
      throw new DomainError('unauthenticated', 'SOCL-040', 'the ID token is invalid, expired, or not meant for this service', {
        reason: 'INVALID_ID_TOKEN',
        cause: err,
      });
    }
    if (err instanceof ProviderUnavailableError) {
      throw new DomainError('unavailable', 'SOCL-041', "the provider's signing keys cannot be fetched; retry later", {
        reason: 'PROVIDER_UNAVAILABLE',
        cause: err,
      });
    }
    throw err;
  }
}

/** A provider link as the domain hands it out: the email the provider asserted, opened ('' if none). */
export interface SocialLoginView {
  provider: string;
  providerSubject: string;
  email: string;
  createdAt: Date;
  lastLoginAt: Date | null;
}

/** The associated data of a link's sealed email: it belongs to this link's row. */
function linkEmailBinding(linkId: string): string {
  return `social_logins.email:${linkId}`;
}

/** A stored link with its email opened with the user's cipher (none: the user was erased). */
export function openLink(cipher: FieldCipher | undefined, link: SocialLogin): SocialLoginView {
  return {
    provider: link.provider,
    providerSubject: link.providerSubject,
    email: openField(cipher, link.email, linkEmailBinding(link.id)),
    createdAt: link.createdAt,
    lastLoginAt: link.lastLoginAt ?? null,
  };
}

/** Links a provider account; the email it asserted is sealed under the user's data key. */
export async function addLink(
  uow: UnitOfWork,
  user: User,
  provider: string,
  claims: IdTokenClaims,
  via: string,
): Promise<SocialLoginView> {
  const id = uuidv7();
  const email = claims.email?.slice(0, 254) ?? '';
  const cipher = await uow.deps.userKeys.forWriting(uow.em, user.id);
  const link = uow.em.create(SocialLogin, {
    id,
    user,
    provider,
    providerSubject: claims.sub,
    email: email === '' ? null : sealField(cipher, email, linkEmailBinding(id)),
    createdAt: uow.clock.now(),
    lastLoginAt: via === 'user' ? null : uow.clock.now(),
  });
  uow.record({
    type: AuditEventType.socialLoginLinked,
    subjectUserId: user.id,
    metadata: { provider, subject: claims.sub, via },
  });
  return openLink(cipher, link);
}

/** The provider's display name, made safe for the profile (bounded, no control characters), or ''. */
export function displayName(name: string | undefined): string {
  const violations = new Violations();
  const text = checkText('name', name ?? '', FULL_NAME_MAX_LENGTH, violations);
  return violations.isEmpty ? text : '';
}

/** ALREADY_EXISTS: one link per provider and account. */
export const providerAlreadyLinked = (id: string) =>
  new DomainError('already_exists', id, 'an account of this provider is already linked; unlink it first', {
    reason: 'PROVIDER_ALREADY_LINKED',
  });
