// Checking an ID token of a configured provider and recording a link to it: shared by provider sign-in and link management.
import { v7 as uuidv7 } from 'uuid';
import { SocialLogin, User } from '../../db/index.js';
import { InvalidIdTokenError, ProviderUnavailableError, type IdTokenClaims } from '../../crypto/oidc.js';
import { FULL_NAME_MAX_LENGTH } from './registration.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { DomainDeps } from '../kernel/operation.js';
import { DomainError, Violations } from '../kernel/errors.js';
import { type UnitOfWork } from '../kernel/unit-of-work.js';
import { checkText } from '../kernel/validation.js';
import { openField } from '../kernel/user-data-keys.js';

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

export async function addLink(
  uow: UnitOfWork,
  user: User,
  provider: string,
  claims: IdTokenClaims,
  via: string,
): Promise<SocialLogin> {
  const id = uuidv7();
  const email = claims.email?.slice(0, 254);
  const cipher = await uow.deps.userKeys.forWriting(uow.em, user.id);
  const link = uow.em.create(SocialLogin, {
    id,
    user,
    provider,
    ...(await sealedProviderSubject(uow, user.id, { id, provider, subject: claims.sub })),
    emailCiphertext: email ? cipher.seal(email, socialLoginEmailBinding(id)) : null,
    createdAt: uow.clock.now(),
    lastLoginAt: via === 'user' ? null : uow.clock.now(),
  });
  uow.record({
    type: AuditEventType.socialLoginLinked,
    subjectUserId: user.id,
    metadata: { provider, subject: claims.sub, via },
  });
  return link;
}

/** The link of `subject` at `provider`, found by its blind index, or null. */
export function findLinkBySubject(
  scope: Pick<UnitOfWork, 'em' | 'deps'>,
  provider: string,
  subject: string,
): Promise<SocialLogin | null> {
  return scope.em.findOne(SocialLogin, { provider, providerSubjectIndex: scope.deps.providerSubjectIndex.of(provider, subject) });
}

/** A link's subject as stored: its blind index, and the subject sealed under the user's data key, bound to the link. */
export async function sealedProviderSubject(
  uow: UnitOfWork,
  userId: string,
  link: { id: string; provider: string; subject: string },
): Promise<{ providerSubjectIndex: string; providerSubjectCiphertext: string }> {
  const cipher = await uow.deps.userKeys.forWriting(uow.em, userId);
  return {
    providerSubjectIndex: uow.deps.providerSubjectIndex.of(link.provider, link.subject),
    providerSubjectCiphertext: cipher.seal(link.subject, providerSubjectBinding(link.id)),
  };
}

/** The associated data of a provider link's sealed address. */
export function socialLoginEmailBinding(linkId: string): string {
  return `social_logins.email:${linkId}`;
}

/** The associated data of a provider link's sealed subject. */
export function providerSubjectBinding(linkId: string): string {
  return `social_logins.provider_subject:${linkId}`;
}

/** What a link holds sealed, opened. */
export interface OpenedSocialLogin {
  subject: string;
  /** The address the provider asserted, or ''. */
  email: string;
}

/** The subjects and provider-asserted addresses of `links`, opened with their users' data keys, by link id. */
export async function openSocialLogins(
  scope: Pick<UnitOfWork, 'em' | 'deps'>,
  links: readonly SocialLogin[],
): Promise<Map<string, OpenedSocialLogin>> {
  const ciphers = await scope.deps.userKeys.forReading(
    scope.em,
    links.map((l) => l.user.id),
  );
  return new Map(
    links.map((l) => {
      const cipher = ciphers.get(l.user.id);
      return [
        l.id,
        {
          subject: openField(cipher, l.providerSubjectCiphertext, providerSubjectBinding(l.id)),
          email: openField(cipher, l.emailCiphertext, socialLoginEmailBinding(l.id)),
        },
      ];
    }),
  );
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
