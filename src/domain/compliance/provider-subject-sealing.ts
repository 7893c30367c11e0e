import { hasClearProviderSubjectColumn, lockClearProviderSubjects, storeSealedProviderSubject } from '../../db/index.js';
import { sealedProviderSubject } from '../auth/provider-identity.js';
import type { Operation } from '../kernel/operation.js';
import { inTransaction } from '../kernel/unit-of-work.js';

/** Rows converted per transaction. */
const BATCH = 500;

/**
 * Converts the provider subjects stored in clear by versions before their
 * blind index (migration 20261202190000): each link gets its keyed index and
 * its subject sealed under the user's data key, and `provider_subject` is
 * emptied. Runs at start-up before the service serves; idempotent, resumable,
 * and safe with several instances (rows are claimed with SKIP LOCKED).
 * Returns the links converted; once the post-deploy migration dropped the
 * column there is nothing to read.
 */
export async function sealClearProviderSubjects(op: Operation): Promise<number> {
  if (!(await hasClearProviderSubjectColumn(op.em))) return 0;
  let total = 0;
  for (;;) {
    const done = await inTransaction(op, async (uow) => {
      const rows = await lockClearProviderSubjects(uow.em, BATCH);
      for (const row of rows) {
        await storeSealedProviderSubject(uow.em, row.id, await sealedProviderSubject(uow, row.userId, row));
      }
      return rows.length;
    });
    total += done;
    if (done < BATCH) return total;
  }
}
