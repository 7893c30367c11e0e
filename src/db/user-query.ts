import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { User, type UserRole, type UserStatus } from './entities/user.js';

/** One comparison of a user filter, already validated: nothing here is raw user text spliced into SQL. */
export type UserCondition =
  | { field: 'status'; op: '=' | '!='; value: UserStatus }
  | { field: 'role'; op: '=' | '!='; value: UserRole }
  /** The normalized address from the parser; the query gets its blind index (addresses are stored encrypted). */
  | { field: 'email'; op: '='; value: string }
  | { field: 'created_at'; op: '=' | '<' | '<=' | '>' | '>='; value: Date }
  | { field: 'app_metadata'; op: '=' | '!='; path: string[]; value: string | number | boolean }
  | { field: 'app_metadata'; op: 'has'; path: string[] };

/** A keyset position: the last (created_at, id) of the previous page (users, service accounts). */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

export interface UserPageQuery {
  conditions: UserCondition[];
  includeDeleted: boolean;
  after: PageCursor | undefined;
  limit: number;
}

/** Path segments are checked by the filter parser; this guard keeps the text[] literal safe regardless. */
const PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * One page of users in (created_at, id) order, and how many users match in
 * all. Keyset paging: rows added meanwhile land after the cursor or before
 * it, never shifting what the next page returns.
 */
export async function findUserPage(em: EntityManager, query: UserPageQuery): Promise<{ users: User[]; total: number }> {
  const page = where(em.createQueryBuilder(User, 'u'), query);
  if (query.after) page.andWhere('(u.created_at, u.id) > (?, ?)', [query.after.createdAt, query.after.id]);
  page.orderBy({ createdAt: 'asc', id: 'asc' }).limit(query.limit);
  const [users, total] = await Promise.all([page.getResultList(), where(em.createQueryBuilder(User, 'u'), query).getCount()]);
  return { users, total };
}

function where<Q extends QueryBuilder<User, 'u'>>(qb: Q, query: UserPageQuery): Q {
  if (!query.includeDeleted) qb.andWhere(`u.status <> 'deleted'`);
  for (const c of query.conditions) {
    switch (c.field) {
      case 'status':
      case 'role':
        qb.andWhere(`u.${c.field} ${c.op === '=' ? '=' : '<>'} ?`, [c.value]);
        break;
      case 'email':
        qb.andWhere('u.email_index = ?', [c.value]);
        break;
      case 'created_at':
        qb.andWhere(`u.created_at ${c.op} ?`, [c.value]);
        break;
      case 'app_metadata': {
        if (!c.path.every((s) => PATH_SEGMENT.test(s))) throw new Error('invalid app_metadata path');
        if (c.op === 'has') {
          qb.andWhere('u.app_metadata #> cast(? as text[]) is not null', [`{${c.path.join(',')}}`]);
        } else {
          // Containment matches the JSON type too: "5" and 5 are different values.
          const containment = JSON.stringify(c.path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), c.value));
          qb.andWhere(`${c.op === '=' ? '' : 'not '}(u.app_metadata @> cast(? as jsonb))`, [containment]);
        }
        break;
      }
    }
  }
  return qb;
}
