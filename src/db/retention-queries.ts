import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The retention job's statements. Each removes at most `batch` rows and
 * returns how many, so no statement holds locks for long; each condition
 * matches an index of Migration20261202130000_retention word for word.
 */

async function affected(em: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const rows = await em.getConnection().execute<unknown[]>(sql, params);
  return rows.length;
}

/** Deletes sessions that ended (expired or revoked) before `cutoff`; their refresh token history goes with them (cascade). */
export function pruneEndedSessions(em: EntityManager, cutoff: Date, batch: number): Promise<number> {
  return affected(
    em,
    `delete from sessions where id in (
       select id from sessions where least(expires_at, revoked_at) < ? limit ?
     ) returning 1`,
    [cutoff, batch],
  );
}

/** Deletes one-time tokens used or expired before `cutoff`. */
export function pruneSpentOneTimeTokens(em: EntityManager, cutoff: Date, batch: number): Promise<number> {
  return affected(
    em,
    `delete from one_time_tokens where id in (
       select id from one_time_tokens where least(expires_at, consumed_at) < ? limit ?
     ) returning 1`,
    [cutoff, batch],
  );
}

/** Deletes MFA sign-in challenges used or expired before `cutoff` (only their hashes were kept). */
export function pruneSpentMfaChallenges(em: EntityManager, cutoff: Date, batch: number): Promise<number> {
  return affected(
    em,
    `delete from mfa_challenges where id in (
       select id from mfa_challenges where least(expires_at, used_at) < ? limit ?
     ) returning 1`,
    [cutoff, batch],
  );
}

/** Deletes outbox rows delivered or given up before `cutoff` (a given-up mail's last attempt was due at next_attempt_at). */
export function pruneFinishedMail(em: EntityManager, cutoff: Date, batch: number): Promise<number> {
  return affected(
    em,
    `delete from email_outbox where id in (
       select id from email_outbox where status <> 'pending' and coalesce(sent_at, next_attempt_at) < ? limit ?
     ) returning 1`,
    [cutoff, batch],
  );
}

/**
 * Blanks the personal parts of audit events that occurred before `cutoff`:
 * ip, user agent and the personal metadata (sealed under the subject's key,
 * or in clear in events written before data keys). The events themselves stay:
 * id, type, time, actor, subject and the other metadata.
 */
export function scrubAuditPersonalData(em: EntityManager, cutoff: Date, batch: number): Promise<number> {
  return affected(
    em,
    `update audit_events set ip = null, user_agent = null, metadata = metadata - 'sealed' - 'subject' - 'email'
      where id in (
        select id from audit_events
         where occurred_at < ?
           and (ip is not null or user_agent is not null or jsonb_exists_any(metadata, array['sealed', 'subject', 'email']))
         order by occurred_at limit ?
      ) returning 1`,
    [cutoff, batch],
  );
}
