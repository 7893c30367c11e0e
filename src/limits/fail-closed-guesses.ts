import type { GuessKeys, GuessLimiter, GuessReservation, ReservedGuess } from '../domain/kernel/rate-limits.js';
import { LimiterStoreUnavailable } from './limiter-store.js';

/**
 * Guess counting that fails closed at the gate only. Reserving a guess is the
 * gate: if the store cannot count it, the call is refused (UNAVAILABLE) and
 * the guess is never checked. Reporting how a reserved guess went comes after
 * the check: if the store fails then, the caller still gets the answer its
 * guess earned (and its audit event), because every miss leaves the count
 * stricter, never looser: a reset or a give-back not done keeps the attempt
 * counted, and a lock not set still leaves the spent budget refusing until
 * the window ends. The store has already logged and counted the failure.
 */
export class FailClosedGuesses implements GuessLimiter {
  constructor(private readonly limiter: GuessLimiter) {}

  async reserve(keys: GuessKeys): Promise<GuessReservation> {
    const reservation = await this.limiter.reserve(keys);
    if (!reservation.granted) return reservation;
    const { guess } = reservation;
    const settled: ReservedGuess = {
      succeeded: () => bestEffort(guess.succeeded(), undefined),
      passed: () => bestEffort(guess.passed(), undefined),
      failed: () => bestEffort(guess.failed(), { locked: false }),
    };
    return { granted: true, guess: settled };
  }
}

async function bestEffort<T>(settlement: Promise<T>, ifUnreachable: T): Promise<T> {
  try {
    return await settlement;
  } catch (err) {
    if (err instanceof LimiterStoreUnavailable) return ifUnreachable;
    throw err;
  }
}
