import type { MasterKeyBoxes } from '../../crypto/master-key-boxes.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import {
  countStaleCiphertexts,
  lockStaleCiphertexts,
  MASTER_KEY_CIPHERTEXTS,
  storeResealedCiphertext,
  type MasterKeyCiphertextKind,
} from '../../db/index.js';
import type { Operation } from '../kernel/operation.js';

/** Counts of a rotation: ciphertexts re-sealed per kind (`user_keys`: the data keys in the key store). */
export type RotationCounts = Record<'user_keys' | MasterKeyCiphertextKind, number>;

/** How a rotation reports: `done` of `total` re-sealed so far. */
export type RotationProgress = (done: number, total: number) => void;

const BOX_OF: Record<MasterKeyCiphertextKind, keyof MasterKeyBoxes> = {
  signing_keys: 'signingKeys',
  sessions: 'refreshSuccessors',
  email_outbox: 'outbox',
};

/**
 * Re-seals everything the master key protects (users' data keys in the key
 * store, signing keys' private halves, refresh successors, queued mail) under
 * the current master key, in short transactions of `batchSize` locked rows. Rows already
 * under the current key are skipped, so a crashed run simply runs again, and
 * two runs at once share the work. Afterwards the previous keys can leave the
 * configuration.
 */
export async function rotateMasterKey(
  op: Operation,
  boxes: MasterKeyBoxes,
  options: { batchSize: number; onProgress?: RotationProgress },
): Promise<RotationCounts> {
  const keyId = boxes.userKeys.keyId;
  const counts = { user_keys: 0, ...Object.fromEntries(MASTER_KEY_CIPHERTEXTS.map((k) => [k, 0])) } as RotationCounts;
  const store = op.deps.userKeys.store;
  let total = await store.countWrappedByOthers(keyId);
  for (const kind of MASTER_KEY_CIPHERTEXTS) total += await countStaleCiphertexts(op.em, kind, keyId);
  let done = 0;
  options.onProgress?.(done, total);
  const progressed = (n: number) => {
    done += n;
    // Rows written meanwhile under an old key (an instance not yet restarted) can push done past the first count.
    total = Math.max(total, done);
    options.onProgress?.(done, total);
  };
  for (;;) {
    const rewrapped = await store.rewrapBatch(keyId, options.batchSize, (key) =>
      boxes.userKeys.reseal(key.wrappedKey, key.userId),
    );
    if (rewrapped === 0) break;
    counts.user_keys += rewrapped;
    progressed(rewrapped);
  }
  for (const kind of MASTER_KEY_CIPHERTEXTS) {
    const box = boxes[BOX_OF[kind]];
    for (;;) {
      const resealed = await resealBatch(op, kind, box, options.batchSize);
      if (resealed === 0) break;
      counts[kind] += resealed;
      progressed(resealed);
    }
  }
  return counts;
}

async function resealBatch(op: Operation, kind: MasterKeyCiphertextKind, box: SecretBox, batchSize: number): Promise<number> {
  return op.em.transactional(async (tx) => {
    const rows = await lockStaleCiphertexts(tx, kind, box.keyId, batchSize);
    for (const row of rows) {
      const resealed = box.reseal(row.sealed, row.context);
      if (resealed !== null) await storeResealedCiphertext(tx, kind, row.id, resealed);
    }
    return rows.length;
  });
}
