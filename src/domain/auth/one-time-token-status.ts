import { findOneTimeToken, type OneTimeTokenPurpose } from '../../db/index.js';
import { hashBearerSecret } from '../../crypto/random.js';
import type { Operation } from '../kernel/operation.js';
import { isOneTimeTokenShape } from './one-time-tokens.js';

/** Why a mailed link does or does not work; the RPCs answer one error for all, a page can say which. */
export type OneTimeTokenStatus = 'usable' | 'expired' | 'used' | 'invalid';

/**
 * Looks a link's token up without using it, so a page can tell the holder why
 * it fails. Only the token's holder learns anything: the token is the
 * capability. A token superseded by a newer mail counts as used.
 */
export async function oneTimeTokenStatus(
  op: Operation,
  rawToken: string,
  purposes: OneTimeTokenPurpose[],
): Promise<OneTimeTokenStatus> {
  if (!isOneTimeTokenShape(rawToken)) return 'invalid';
  const row = await findOneTimeToken(op.em, hashBearerSecret(rawToken), purposes);
  if (!row || row.user.status !== 'active') return 'invalid';
  if (row.consumedAt) return 'used';
  if (row.expiresAt <= op.clock.now()) return 'expired';
  return 'usable';
}
