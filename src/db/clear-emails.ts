import type { EntityManager } from '@mikro-orm/postgresql';

/** The tables whose `email` column held addresses in clear before the blind index. */
const CLEAR_EMAIL_TABLES = ['users', 'one_time_tokens', 'social_logins'] as const;
export type ClearEmailTable = (typeof CLEAR_EMAIL_TABLES)[number];

/** A row still holding an address in clear. */
export interface ClearEmailRow {
  id: string;
  userId: string;
  email: string;
  /** one_time_tokens only. */
  purpose?: string;
}

const USER_ID: Record<ClearEmailTable, string> = { users: 'id', one_time_tokens: 'user_id', social_logins: 'user_id' };

/**
 * The tables that still have their clear `email` column: all three until
 * `tessera migrate --post-deploy` drops them (Migration20261202150000), none after.
 */
export async function tablesWithClearEmailColumn(em: EntityManager): Promise<ClearEmailTable[]> {
  const rows = await em.execute<{ table_name: string }[]>(
    `select table_name from information_schema.columns
      where table_schema = current_schema() and column_name = 'email' and table_name in (?, ?, ?)`,
    [...CLEAR_EMAIL_TABLES],
  );
  const present = new Set(rows.map((r) => r.table_name));
  return CLEAR_EMAIL_TABLES.filter((t) => present.has(t));
}

/**
 * Up to `limit` rows of `table` with a clear address, locked until the
 * transaction ends; rows another converter holds are skipped, so two
 * instances starting together share the work.
 */
export function lockClearEmails(em: EntityManager, table: ClearEmailTable, limit: number): Promise<ClearEmailRow[]> {
  const purpose = table === 'one_time_tokens' ? ', purpose' : '';
  return em.execute<ClearEmailRow[]>(
    `select id, ${USER_ID[table]} as "userId", email${purpose} from ${table}
      where email is not null order by id limit ? for update skip locked`,
    [limit],
  );
}

/** Replaces a row's clear address by its sealed form (and blind index, where the table has one). */
export async function storeSealedEmail(
  em: EntityManager,
  table: ClearEmailTable,
  id: string,
  sealed: { emailIndex?: string; emailCiphertext: string | null },
): Promise<void> {
  if (table === 'social_logins') {
    await em.execute('update social_logins set email = null, email_ciphertext = ? where id = ?', [sealed.emailCiphertext, id]);
    return;
  }
  await em.execute(`update ${table} set email = null, email_index = ?, email_ciphertext = ? where id = ?`, [
    sealed.emailIndex,
    sealed.emailCiphertext,
    id,
  ]);
}
