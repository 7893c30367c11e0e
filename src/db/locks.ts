import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { Session } from './entities/session.js';
import { User } from './entities/user.js';

/** Row-lock options for reading a user for update: the row is re-read, not taken from the identity map. */
const FOR_UPDATE = { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } as const;

/** The user row, locked until the transaction ends; throws when it does not exist. */
export function lockUser(em: EntityManager, userId: string, options: { withPasswordHash?: boolean } = {}): Promise<User> {
  return em.findOneOrFail(User, userId, { ...FOR_UPDATE, populate: options.withPasswordHash ? ['passwordHash'] : [] });
}

/** The user row, locked until the transaction ends, or null. */
export function lockUserIfExists(em: EntityManager, userId: string): Promise<User | null> {
  return em.findOne(User, userId, FOR_UPDATE);
}

/** The user with this email blind index, locked until the transaction ends, or null. */
export function lockUserByEmailIndex(em: EntityManager, emailIndex: string): Promise<User | null> {
  return em.findOne(User, { emailIndex }, FOR_UPDATE);
}

/** The session row, locked until the transaction ends, or null. */
export function lockSession(em: EntityManager, sessionId: string): Promise<Session | null> {
  return em.findOne(Session, sessionId, FOR_UPDATE);
}
