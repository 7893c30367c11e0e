import { z } from 'zod';
import { decodeSecret } from './config-files.js';

// The value types of the environment schema in src/config.ts.

/** A secret given as base64 or hex that must decode to at least `min` bytes. */
export const secret = (min: number) =>
  z
    .string()
    .transform((value) => decodeSecret(value))
    .refine((buf) => buf.length >= min, { message: `must decode to at least ${min} bytes (base64 or hex)` });

/** Comma-separated secrets, each as `secret(min)`. */
export const secretList = (min: number) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
        .map(decodeSecret),
    )
    .refine((list) => list.every((buf) => buf.length >= min), {
      message: `each must decode to at least ${min} bytes (base64 or hex)`,
    });

export const port = z.coerce.number().int().min(0).max(65535);

export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http on the loopback interface only (local development and tests). */
const keysUrl = z
  .string()
  .url()
  .refine(
    (value) => {
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    },
    { message: 'must be an https URL (http only on the loopback interface)' },
  );

const OidcProvidersSchema = z
  .array(
    z.strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1 to 32 lower-case letters, digits, "-" or "_"'),
      issuer: z.string().min(1),
      jwks_uri: keysUrl,
      audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    }),
  )
  .refine((list) => new Set(list.map((p) => p.name)).size === list.length, { message: 'provider names must be unique' });

/** OIDC_PROVIDERS: a JSON array of { name, issuer, jwks_uri, audience }. */
export const oidcProviders = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of { name, issuer, jwks_uri, audience }' });
      return z.NEVER;
    }
  })
  .pipe(OidcProvidersSchema);
export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().min(0);
export const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), { message: 'must be an http(s) URL' });
export const redisUrl = z
  .string()
  .url()
  .refine((value) => /^rediss?:\/\//.test(value), { message: 'must be a redis:// or rediss:// URL' });
export const smtpUrl = z
  .string()
  .url()
  .refine((value) => /^smtps?:\/\//.test(value), { message: 'must be an smtp:// or smtps:// URL' });
