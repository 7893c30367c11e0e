import { DomainError } from './errors.js';
import type { Operation } from './operation.js';
import type { LimitedCall, ReservedGuess } from './rate-limits.js';

/**
 * Reserves one guess at `account` from the caller's address, or throws
 * RESOURCE_EXHAUSTED (TOO_MANY_ATTEMPTS, with RetryInfo) after `onRefused`
 * (which audits the refusal).
 */
export async function reserveGuess(
  op: Operation,
  account: string,
  errorId: string,
  onRefused: () => Promise<void>,
): Promise<ReservedGuess> {
  const reservation = await op.deps.guesses.reserve({ account, ip: op.ip });
  if (reservation.granted) return reservation.guess;
  await onRefused();
  throw new DomainError('resource_exhausted', errorId, 'too many failed attempts; try again later', {
    reason: 'TOO_MANY_ATTEMPTS',
    retryAfterMs: reservation.retryAfterMs,
  });
}

/**
 * Counts one call from the caller's address before any work is done, or
 * throws RESOURCE_EXHAUSTED (RATE_LIMITED, with RetryInfo). Calls without a
 * client address (the CLI, jobs) are not counted.
 */
export async function limitCallsFromClient(op: Operation, call: LimitedCall, errorId: string): Promise<void> {
  if (!op.ip) return;
  const retryAfterMs = await op.deps.requestLimits.consumeCall(call, op.ip);
  if (retryAfterMs === undefined) return;
  throw new DomainError('resource_exhausted', errorId, 'too many requests from this address; try again later', {
    reason: 'RATE_LIMITED',
    retryAfterMs,
  });
}
