import type { EntityManager } from '@mikro-orm/postgresql';

/** A provider link still holding its subject in clear (written before the blind index). */
export interface ClearProviderSubjectRow {
  id: string;
  userId: string;
  provider: string;
  subject: string;
}

/** Whether `social_logins.provider_subject` is still there: until `tessera migrate --post-deploy` drops it (Migration20261202190500). */
export async function hasClearProviderSubjectColumn(em: EntityManager): Promise<boolean> {
  const rows = await em.execute<{ n: number }[]>(
    `select count(*)::int as n from information_schema.columns
      where table_schema = current_schema() and table_name = 'social_logins' and column_name = 'provider_subject'`,
  );
  return rows[0]!.n > 0;
}

/**
 * Up to `limit` links with a clear subject, locked until the transaction ends;
 * rows another converter holds are skipped, so instances starting together
 * share the work.
 */
export function lockClearProviderSubjects(em: EntityManager, limit: number): Promise<ClearProviderSubjectRow[]> {
  return em.execute<ClearProviderSubjectRow[]>(
    `select id, user_id as "userId", provider, provider_subject as subject from social_logins
      where provider_subject is not null order by id limit ? for update skip locked`,
    [limit],
  );
}

/** Replaces a link's clear subject by its blind index and sealed form. */
export async function storeSealedProviderSubject(
  em: EntityManager,
  id: string,
  sealed: { providerSubjectIndex: string; providerSubjectCiphertext: string },
): Promise<void> {
  await em.execute(
    'update social_logins set provider_subject = null, provider_subject_index = ?, provider_subject_ciphertext = ? where id = ?',
    [sealed.providerSubjectIndex, sealed.providerSubjectCiphertext, id],
  );
}
