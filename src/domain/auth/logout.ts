import { lockSessionByRefreshHash } from '../../db/index.js';
import { hashBearerSecret } from '../../crypto/random.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { Operation } from '../kernel/operation.js';
import { checkRefreshTokenShape } from './refresh-rotation.js';
import { inTransaction } from '../kernel/unit-of-work.js';

/**
 * Ends the session of a refresh token (the current one, or the one it just
 * replaced). Idempotent: an unknown or already revoked token succeeds too, and
 * reveals nothing (as RFC 7009 revocation).
 */
export async function logout(op: Operation, rawToken: string): Promise<void> {
  const presentedHash = hashBearerSecret(checkRefreshTokenShape(rawToken));
  await inTransaction(op, async (uow) => {
    const session = await lockSessionByRefreshHash(uow.em, presentedHash);
    if (!session || session.revokedAt) return;
    session.revokedAt = op.clock.now();
    session.revokeReason = 'logout';
    session.successorCiphertext = null;
    uow.record({
      type: AuditEventType.sessionLoggedOut,
      subjectUserId: session.user.id,
      actor: { type: 'user', id: session.user.id },
      metadata: { session_id: session.id },
    });
  });
}
