import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * What a prepared query asks of an EntityManager (see prepared-query.ts): the
 * pool and whether a transaction is open. The root EntityManager answers
 * these without an identity map, so they need no fork.
 */
const CONNECTION_ONLY = new Set<PropertyKey>(['getConnection', 'isInTransaction', 'getTransactionContext']);

/**
 * An EntityManager that forks the ORM's root one on first real use. A call
 * whose queries are all prepared statements (session check, profile read)
 * then never builds a unit of work and identity map it would not use.
 */
export function lazyEntityManager(root: EntityManager): EntityManager {
  let fork: EntityManager | undefined;
  return new Proxy(root, {
    get(target, property) {
      const owner = fork ?? (CONNECTION_ONLY.has(property) ? target : (fork = target.fork()));
      const value: unknown = Reflect.get(owner, property, owner);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(owner) : value;
    },
  });
}
