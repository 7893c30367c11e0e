import type { EntityManager } from '@mikro-orm/postgresql';

/** What an erasure removed or shredded, by kind. */
export interface ErasureCounts {
  profiles: number;
  social_logins: number;
  sessions: number;
  one_time_tokens: number;
  /** Outbox rows of the user: queued mail (never sent now) and the contentless records of sent or given-up mail. */
  mail: number;
  /** The TOTP factor, recovery codes and pending MFA challenges. */
  second_factors: number;
  /** The data key, destroyed in the key store (not by erasePersonalRows). */
  data_keys: number;
  /** Audit events about the user: kept, their personal parts unreadable. */
  audit_events_shredded: number;
  accounts: number;
}

/** The account to erase, row-locked until the transaction ends (read in SQL: the rows go by SQL too), or null. */
export async function lockAccountForErasure(em: EntityManager, userId: string): Promise<{ role: string; status: string } | null> {
  const [row] = await em.execute<{ role: string; status: string }[]>('select role, status from users where id = ? for update', [
    userId,
  ]);
  return row ?? null;
}

async function deleted(em: EntityManager, sql: string, userId: string): Promise<number> {
  const rows = await em.execute<unknown[]>(`${sql} returning 1`, [userId]);
  return rows.length;
}

/**
 * Deletes every row holding the user's personal data, in the caller's
 * transaction (the data key is in the key store: the domain destroys it). Audit events stay: their sealed parts become
 * unreadable with the key, and any personal part stored in clear (events
 * written before data keys existed) is blanked.
 */
export async function erasePersonalRows(em: EntityManager, userId: string): Promise<Omit<ErasureCounts, 'data_keys'>> {
  const counts: Omit<ErasureCounts, 'data_keys'> = {
    profiles: await deleted(em, 'delete from user_profiles where user_id = ?', userId),
    social_logins: await deleted(em, 'delete from social_logins where user_id = ?', userId),
    sessions: await deleted(em, 'delete from sessions where user_id = ?', userId),
    one_time_tokens: await deleted(em, 'delete from one_time_tokens where user_id = ?', userId),
    mail: await deleted(em, 'delete from email_outbox where user_id = ?', userId),
    second_factors:
      (await deleted(em, 'delete from totp_factors where user_id = ?', userId)) +
      (await deleted(em, 'delete from recovery_codes where user_id = ?', userId)) +
      (await deleted(em, 'delete from mfa_challenges where user_id = ?', userId)),
    audit_events_shredded: 0,
    accounts: 0,
  };
  await em.execute(
    // A suspension's reason was stored in clear before it was sealed (audit-personal-data.ts): it goes too.
    `update audit_events set ip = null, user_agent = null,
            metadata = metadata - 'subject' - 'email' - (case when type = 'user.suspended' then 'reason' else '' end)
      where subject_user_id = ? and (ip not like 'v1.%' or user_agent not like 'v1.%' or jsonb_exists_any(metadata, array['subject', 'email'])
        or (type = 'user.suspended' and jsonb_exists(metadata, 'reason')))`,
    [userId],
  );
  const [events] = await em.execute<{ n: string }[]>('select count(*)::text as n from audit_events where subject_user_id = ?', [
    userId,
  ]);
  counts.audit_events_shredded = Number(events!.n);
  // A key an earlier version left in the main database (moved out at start-up; none should remain).
  await em.execute('delete from user_keys where user_id = ?', [userId]);
  counts.accounts = await deleted(em, 'delete from users where id = ?', userId);
  return counts;
}

/** Ids of soft-deleted accounts deleted before `cutoff`, oldest first, at most `limit`. */
export async function findDeletedUsersBefore(em: EntityManager, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>(
    `select id from users where status = 'deleted' and deleted_at < ? order by deleted_at limit ?`,
    [cutoff, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Runs `work` only if no other instance holds the job's advisory lock (a
 * session lock, released at the end); returns null when another ran it.
 */
export async function withJobLock<T>(em: EntityManager, lockId: number, work: () => Promise<T>): Promise<T | null> {
  const connection = em.getConnection();
  return connection.transactional(async (trx) => {
    const [row] = await connection.execute<{ locked: boolean }[]>(
      'select pg_try_advisory_xact_lock(?) as locked',
      [lockId],
      'all',
      trx,
    );
    return row!.locked ? work() : null;
  });
}
