import { lockClearEmails, storeSealedEmail, tablesWithClearEmailColumn, type ClearEmailTable } from '../../db/index.js';
import { socialLoginEmailBinding } from '../auth/provider-identity.js';
import { tokenEmailBinding } from '../auth/one-time-tokens.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';
import { sealUserEmail } from '../kernel/user-email.js';
import { normalizeEmail } from '../kernel/validation.js';

/** Rows converted per transaction. */
const BATCH = 500;

/**
 * Converts the addresses stored in clear by versions before the blind index
 * (migration 20261202120000): each gets its keyed index and is sealed under
 * its user's data key, and the clear column is emptied. Runs at start-up
 * before the service serves; idempotent, resumable, and safe with several
 * instances (rows are claimed with SKIP LOCKED). Returns the rows converted.
 * Once `tessera migrate --post-deploy` has dropped the clear columns there is
 * nothing to read, and it returns at once.
 */
export async function sealClearEmails(op: Operation): Promise<Record<ClearEmailTable, number>> {
  const counts = { users: 0, one_time_tokens: 0, social_logins: 0 };
  for (const table of await tablesWithClearEmailColumn(op.em)) {
    for (;;) {
      const done = await inTransaction(op, async (uow) => {
        const rows = await lockClearEmails(uow.em, table, BATCH);
        for (const row of rows) {
          if (table === 'users') {
            await storeSealedEmail(uow.em, table, row.id, await sealUserEmail(uow, row.userId, row.email));
            continue;
          }
          const cipher = await uow.deps.userKeys.forWriting(uow.em, row.userId);
          if (table === 'one_time_tokens') {
            const email = normalizeEmail(row.email);
            await storeSealedEmail(uow.em, table, row.id, {
              emailIndex: uow.deps.emailIndex.of(email),
              emailCiphertext: row.purpose === 'email_change' ? cipher.seal(email, tokenEmailBinding(row.id)) : null,
            });
          } else {
            await storeSealedEmail(uow.em, table, row.id, {
              emailCiphertext: cipher.seal(row.email, socialLoginEmailBinding(row.id)),
            });
          }
        }
        return rows.length;
      });
      counts[table] += done;
      if (done < BATCH) break;
    }
  }
  return counts;
}
