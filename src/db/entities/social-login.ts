import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from './user.js';

/** A user's account at an OpenID Connect provider: (provider, subject) signs in as `user`. */
export const SocialLogin = defineEntity({
  name: 'SocialLogin',
  tableName: 'social_logins',
  properties: (p) => ({
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    /** The configured provider name (OIDC_PROVIDERS). */
    provider: p.text(),
    /** The keyed blind index of (provider, "sub" claim): what sign-in looks the link up by. */
    providerSubjectIndex: p.text(),
    /** The provider's "sub" claim, sealed under the user's data key (binding `social_logins.provider_subject:<id>`). */
    providerSubjectCiphertext: p.text(),
    /** The email the provider asserted when the link was made, if any, sealed under the user's data key (binding `social_logins.email:<id>`). */
    emailCiphertext: p.text().nullable(),
    createdAt: p.datetime(),
    lastLoginAt: p.datetime().nullable(),
  }),
  uniques: [
    { name: 'social_logins_provider_subject_index_unique', properties: ['provider', 'providerSubjectIndex'] },
    // One account per provider per user.
    { name: 'social_logins_user_provider_unique', properties: ['user', 'provider'] },
  ],
});

export type SocialLogin = InferEntity<typeof SocialLogin>;
