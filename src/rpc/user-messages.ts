import type { SocialLogin as SocialLoginRow, User as UserRow } from '../db/index.js';
import { openSocialLogins } from '../domain/auth/provider-identity.js';
import type { Operation } from '../domain/kernel/operation.js';
import { openUserEmails } from '../domain/kernel/user-email.js';
import type { SocialLogin } from '../gen/tessera/v1/social_login.js';
import type { User } from '../gen/tessera/v1/user.js';
import { toSocialLoginMessage, toUserMessage } from './convert.js';

// Addresses are stored sealed under each user's data key: they are opened here, for the response only.

/** Users -> protos, their addresses opened (one key lookup for the lot). */
export async function userMessages(op: Operation, users: readonly UserRow[]): Promise<User[]> {
  const emails = await openUserEmails(op, users);
  return users.map((u) => toUserMessage(u, emails.get(u.id) ?? ''));
}

/** One user -> proto, the address opened. */
export async function userMessage(op: Operation, user: UserRow): Promise<User> {
  return (await userMessages(op, [user]))[0]!;
}

/** Provider links -> protos, the addresses the providers asserted opened. */
export async function socialLoginMessages(op: Operation, links: readonly SocialLoginRow[]): Promise<SocialLogin[]> {
  const opened = await openSocialLogins(op, links);
  return links.map((l) => toSocialLoginMessage(l, opened.get(l.id)!));
}
