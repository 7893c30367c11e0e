import {
  clearExpiredSuccessors,
  deleteAuditEventsBefore,
  findExistingUserIds,
  pruneEndedRefreshHistory,
  pruneEndedSessions,
  pruneFinishedMail,
  pruneSpentOneTimeTokens,
  pruneSpentMfaChallenges,
  scrubAuditPersonalData,
  type EntityManager,
} from '../../db/index.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { eraseExpiredDeletedUsers } from './user-erasure.js';

const DAY_MS = 24 * 3600 * 1000;
/** Rows per statement: short locks, and a run never holds a large result. */
const BATCH = 1000;
/** Accounts per step: each is erased in its own transaction (key, rows, receipt). */
const USER_BATCH = 100;
/**
 * A data key commits in the key store before its account's transaction: a key
 * this old without an account row belongs to a registration that rolled back
 * (no transaction lasts a day).
 */
const ORPHAN_KEY_DAYS = 1;

/** How long each kind is kept after it stopped serving (RETENTION_* and friends in the README). */
export interface RetentionWindows {
  sessionDays: number;
  oneTimeTokenDays: number;
  mailDays: number;
  auditPiiDays: number;
  /** Audit events are deleted after this many days; 0 keeps them forever. */
  auditDays: number;
  /** The refresh token kept for a replay is cleared this long after its rotation. */
  refreshReuseGraceSeconds: number;
}

/** What one run removed, by kind (the keys of `retention.completed`'s metadata and of the metrics). */
export interface RetentionCounts {
  sessions: number;
  one_time_tokens: number;
  mail: number;
  users_erased: number;
  audit_events_scrubbed: number;
  audit_events_deleted: number;
  /** Session secrets kept only briefly: not personal data, so not audited, but counted in the metrics. */
  refresh_successors_cleared: number;
  refresh_history_pruned: number;
  /** Spent MFA sign-in challenges (hashes only), after the one-time token window. */
  mfa_challenges: number;
  /** Data keys in the key store whose account never committed (a registration rolled back), a day on. */
  orphan_data_keys: number;
}

/** The kinds whose removal is recorded in `retention.completed`. */
const AUDITED_KINDS = [
  'sessions',
  'one_time_tokens',
  'mail',
  'users_erased',
  'audit_events_scrubbed',
  'audit_events_deleted',
] as const satisfies readonly (keyof RetentionCounts)[];

/** Runs one statement until it removes less than a full batch; returns the total. */
async function drain(step: () => Promise<number>, batch = BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step();
    total += n;
    if (n < batch) return total;
  }
}

/**
 * One retention pass, as the system: prunes what is past its window, erases
 * soft-deleted accounts past USER_DELETE_RETENTION_DAYS (as EraseUser does,
 * receipt included) and blanks the personal parts of old audit events. The
 * caller makes sure one instance runs it at a time. When anything personal
 * went, one `retention.completed` event records the counts (only counts).
 */
export async function runRetention(op: Operation, windows: RetentionWindows): Promise<RetentionCounts> {
  const now = op.clock.now().getTime();
  const before = (days: number) => new Date(now - days * DAY_MS);
  const em: EntityManager = op.em;
  const counts: RetentionCounts = {
    refresh_successors_cleared: await clearExpiredSuccessors(em, new Date(now - windows.refreshReuseGraceSeconds * 1000)),
    refresh_history_pruned: await pruneEndedRefreshHistory(em, new Date(now)),
    sessions: await drain(() => pruneEndedSessions(em, before(windows.sessionDays), BATCH)),
    one_time_tokens: await drain(() => pruneSpentOneTimeTokens(em, before(windows.oneTimeTokenDays), BATCH)),
    mfa_challenges: await drain(() => pruneSpentMfaChallenges(em, before(windows.oneTimeTokenDays), BATCH)),
    mail: await drain(() => pruneFinishedMail(em, before(windows.mailDays), BATCH)),
    audit_events_scrubbed: await drain(() => scrubAuditPersonalData(em, before(windows.auditPiiDays), BATCH)),
    audit_events_deleted:
      windows.auditDays > 0 ? await drain(() => deleteAuditEventsBefore(em, before(windows.auditDays), BATCH)) : 0,
    orphan_data_keys: await pruneOrphanDataKeys(op, before(ORPHAN_KEY_DAYS)),
    // Last: an account whose erasure fails fails the run, and must not hold back the other steps.
    users_erased: await drain(() => eraseExpiredDeletedUsers(op, USER_BATCH), USER_BATCH),
  };
  if (AUDITED_KINDS.some((kind) => counts[kind] > 0)) {
    const metadata = Object.fromEntries(AUDITED_KINDS.map((kind) => [kind, counts[kind]]));
    await inTransaction(op, async (uow) => {
      uow.record({ type: AuditEventType.retentionCompleted, metadata, withoutClient: true });
    });
  }
  return counts;
}

/**
 * Deletes the keys created before `createdBefore` that have no account. The
 * key store keeps how far this scan got, so each key is looked at once, not on
 * every run.
 */
async function pruneOrphanDataKeys(op: Operation, createdBefore: Date): Promise<number> {
  const store = op.deps.userKeys.store;
  let pruned = 0;
  for (;;) {
    const batch = await store.orphanCandidates(createdBefore, BATCH);
    if (batch.length === 0) return pruned;
    const existing = new Set(
      await findExistingUserIds(
        op.em,
        batch.map((k) => k.userId),
      ),
    );
    const orphans = batch.filter((k) => !existing.has(k.userId)).map((k) => k.userId);
    pruned += await store.deleteOrphans(orphans, createdBefore, batch[batch.length - 1]!);
    if (batch.length < BATCH) return pruned;
  }
}
