import { lockClearProfileFields, storeSealedProfileFields } from '../../db/index.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { sealAvatarUrl, sealPreferences } from '../profile/profiles.js';

/** Profiles converted per transaction. */
const BATCH = 500;

/**
 * Seals the avatar URLs and preferences stored in clear by versions before
 * migration 20261202170000 under their user's data key. Runs at start-up
 * before the service serves (as sealClearEmails does); idempotent, resumable,
 * and safe with several instances (rows are claimed with SKIP LOCKED).
 * Returns the profiles converted.
 */
export async function sealClearProfileFields(op: Operation): Promise<number> {
  let converted = 0;
  for (;;) {
    const done = await inTransaction(op, async (uow) => {
      const rows = await lockClearProfileFields(uow.em, BATCH);
      for (const row of rows) {
        const cipher = await uow.deps.userKeys.forWriting(uow.em, row.userId);
        await storeSealedProfileFields(uow.em, row.userId, {
          avatarUrl: row.avatarUrl === null ? undefined : sealAvatarUrl(cipher, row.userId, row.avatarUrl),
          preferences:
            row.preferences === null
              ? undefined
              : sealPreferences(cipher, row.userId, JSON.parse(row.preferences) as Record<string, unknown>),
        });
      }
      return rows.length;
    });
    converted += done;
    if (done < BATCH) return converted;
  }
}
