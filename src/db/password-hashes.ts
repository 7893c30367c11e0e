import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Counts stored password hashes that are not argon2id with the current pepper,
 * by scheme: 'bcrypt', 'pbkdf2' (imported) and 'argon2' (imported, another
 * variant, a previous pepper, or made before pepper ids were stored).
 */
export async function countLegacyPasswordHashes(em: EntityManager, currentPepperId: string): Promise<Record<string, number>> {
  const rows = await em.getConnection().execute<{ scheme: string; count: string }[]>(
    `select case when password_hash like '$2%' then 'bcrypt'
                 when password_hash like '$argon2%' then 'argon2'
                 else 'pbkdf2' end as scheme,
            count(*) as count
       from users
      where password_hash is not null
        and not (password_hash like '$argon2id$%' and password_pepper_id is not distinct from ?)
      group by 1`,
    [currentPepperId],
  );
  return Object.fromEntries(rows.map((r) => [r.scheme, Number(r.count)]));
}
