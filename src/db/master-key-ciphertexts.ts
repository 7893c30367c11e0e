import type { EntityManager } from '@mikro-orm/postgresql';

/** The kinds of stored ciphertext the master key protects in the main database (the data keys are in the key store). */
export const MASTER_KEY_CIPHERTEXTS = ['signing_keys', 'sessions', 'email_outbox'] as const;
export type MasterKeyCiphertextKind = (typeof MASTER_KEY_CIPHERTEXTS)[number];

/** Where each kind lives and what its ciphertext is bound to (the context it was sealed with). */
const SPECS: Record<MasterKeyCiphertextKind, { table: string; id: string; column: string; context: string }> = {
  signing_keys: { table: 'signing_keys', id: 'kid', column: 'private_jwk_ciphertext', context: 'kid' },
  sessions: {
    table: 'sessions',
    id: 'id',
    column: 'successor_ciphertext',
    context: `id::text || ':' || coalesce(previous_refresh_token_hash, '')`,
  },
  email_outbox: { table: 'email_outbox', id: 'id', column: 'payload_ciphertext', context: 'id::text' },
};

/** A ciphertext to re-seal, with the context it is bound to. */
export interface StaleCiphertext {
  id: string;
  sealed: string;
  context: string;
}

// Ciphertexts read `v1.<masterKeyId>.<iv>.<tag>.<ciphertext>`.
const stale = (column: string) => `${column} is not null and split_part(${column}, '.', 2) <> ?`;

/** How many ciphertexts of `kind` are not under the master key `currentKeyId`. */
export async function countStaleCiphertexts(
  em: EntityManager,
  kind: MasterKeyCiphertextKind,
  currentKeyId: string,
): Promise<number> {
  const s = SPECS[kind];
  const [row] = await em.execute<{ n: string }[]>(`select count(*)::text as n from ${s.table} where ${stale(s.column)}`, [
    currentKeyId,
  ]);
  return Number(row!.n);
}

/**
 * Up to `limit` ciphertexts of `kind` not under `currentKeyId`, locked until
 * the transaction ends. A row another rotation has just re-sealed drops out
 * when its lock is released (PostgreSQL re-checks the condition), so two
 * rotations running at once never re-seal a row twice.
 */
export function lockStaleCiphertexts(
  em: EntityManager,
  kind: MasterKeyCiphertextKind,
  currentKeyId: string,
  limit: number,
): Promise<StaleCiphertext[]> {
  const s = SPECS[kind];
  return em.execute<StaleCiphertext[]>(
    `select ${s.id}::text as id, ${s.column} as sealed, ${s.context} as context from ${s.table}
     where ${stale(s.column)} order by ${s.id} limit ? for update`,
    [currentKeyId, limit],
  );
}

/** Stores a re-sealed ciphertext of `kind`. */
export async function storeResealedCiphertext(
  em: EntityManager,
  kind: MasterKeyCiphertextKind,
  id: string,
  sealed: string,
): Promise<void> {
  const s = SPECS[kind];
  await em.execute(`update ${s.table} set ${s.column} = ? where ${s.id} = ?`, [sealed, id]);
}
