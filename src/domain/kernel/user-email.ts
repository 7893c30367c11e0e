import type { EntityManager, User } from '../../db/index.js';
import type { DomainDeps } from './operation.js';

/** What reading or writing an address needs: an EntityManager (the caller's transaction, if any) and the keys. */
interface EmailScope {
  em: EntityManager;
  deps: Pick<DomainDeps, 'userKeys' | 'emailIndex'>;
}

/** The associated data of a user's sealed address. */
export function userEmailBinding(userId: string): string {
  return `users.email:${userId}`;
}

/** The blind index and the sealed form of `email` (normalized) for the user `userId`. */
export async function sealUserEmail(
  scope: EmailScope,
  userId: string,
  email: string,
): Promise<{ emailIndex: string; emailCiphertext: string }> {
  const cipher = await scope.deps.userKeys.forWriting(scope.em, userId);
  return { emailIndex: scope.deps.emailIndex.of(email), emailCiphertext: cipher.seal(email, userEmailBinding(userId)) };
}

/** Sets a loaded user's address (index and ciphertext); flushed with the unit of work. */
export async function setUserEmail(scope: EmailScope, user: User, email: string): Promise<void> {
  Object.assign(user, await sealUserEmail(scope, user.id, email));
}

/** The addresses of `users`, opened with their data keys, by user id ('' for a user whose key is gone). */
export async function openUserEmails(scope: EmailScope, users: readonly User[]): Promise<Map<string, string>> {
  const ciphers = await scope.deps.userKeys.forReading(
    scope.em,
    users.map((u) => u.id),
  );
  return new Map(
    users.map((u) => {
      const cipher = ciphers.get(u.id);
      return [u.id, cipher && u.emailCiphertext ? cipher.open(u.emailCiphertext, userEmailBinding(u.id)) : ''];
    }),
  );
}

/** One user's address, opened with their data key. */
export async function openUserEmail(scope: EmailScope, user: User): Promise<string> {
  return (await openUserEmails(scope, [user])).get(user.id)!;
}
