import { defineEntity, type InferEntity } from '@mikro-orm/core';

const SIGNING_KEY_STATES = ['next', 'active', 'retired'] as const;

/** A token signing key. The private half is stored encrypted under the master key. */
export const SigningKey = defineEntity({
  name: 'SigningKey',
  tableName: 'signing_keys',
  properties: (p) => ({
    kid: p.text().primary(),
    alg: p.text(),
    publicJwk: p.json<Record<string, string>>(),
    privateJwkCiphertext: p.text(),
    state: p.enum([...SIGNING_KEY_STATES]),
    createdAt: p.datetime(),
    activatedAt: p.datetime().nullable(),
    retiredAt: p.datetime().nullable(),
    /** A retired key stays in the JWKS until the last token it signed has expired. */
    publishUntil: p.datetime().nullable(),
  }),
});

export type SigningKey = InferEntity<typeof SigningKey>;
